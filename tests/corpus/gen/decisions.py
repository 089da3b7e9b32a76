"""Writes the decision corpus (tests/corpus/decisions/*.json) from compact case tables.

The tables here are the corpus' one source of truth; the JSON files are what this script
writes, and `cargo test -p exportgate --test corpus` fails when they differ from it. To change
a case, edit its table and run `python3 tests/corpus/gen/decisions.py` (`--out DIR` writes
the files elsewhere).
"""
import argparse, json, os
OUT=os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
_args=argparse.ArgumentParser(description=__doc__.splitlines()[0])
_args.add_argument('--out', default=os.path.join(OUT, 'decisions'), help='directory to write the JSON files to')
DEST=_args.parse_args().out
os.makedirs(DEST, exist_ok=True)

def party(name, country, hq=None, parent=None, **kw):
    p={"name": name, "country": country, "headquarters": hq or country, "parent_headquarters": parent or hq or country}
    p.update(kw); return p

US_EXP={"name": "Acme Systems", "country": "US"}

def order(oid, date, chip, dest, qty=8, consignee=None, end_use=None, exporter=US_EXP, spec=None, end_user=None):
    o={"id": oid, "date": date, "item": ({"chip": chip} if chip else {"spec": spec}), "quantity": qty, "destination": dest}
    if exporter: o["exporter"]=exporter
    o["consignee"]=consignee or party("Customer "+dest, dest)
    if end_user: o["end_user"]=end_user
    if end_use: o["end_use"]={"text": " ".join(end_use), "tags": end_use}
    return o

files={}
# Issue 16: from 13 May 2025 an unknown high-severity diversion red flag holds a 3A090.a/4A090.a
# order outside A:5/A:6 (data/due-diligence-policy.json). These cases test something else
# (review policies, exceptions, licences, screening), so their orders carry the facts of a
# known customer that raise no flag; tests/corpus/decisions/due-diligence.json tests the hold.
KNOWN_CUSTOMER={"customer_since": "2019-03-01", "prior_orders": 12, "business_history_years": 9, "online_presence": "established", "business_need_shown": True, "delivery_address_type": "commercial", "delivery_address_consistent": True, "intermediary": "none", "normal_distribution": True}
# Under the forced AI Diffusion rule red flag 28 (IaaS training) is high too; these orders
# train no model.
NO_TRAINING={"tier3-china-denial", "uae-tier2-lpp-replaces-country-scope"}
KNOWN_CASES=NO_TRAINING|set(['b200-china-above-ceiling', 'cambodia-2025-11-06-last-day-in-d5', 'cambodia-2025-11-07-left-d5', 'cambodia-2026-01-15-out-of-d5-under-the-note', 'cambodia-after-leaving-d5', 'end-use-tag-declared-descriptive-accepted', 'end-use-tag-known-training-wmd-after-fix', 'entity-list-blocks-nac', 'entity-list-end-user-behind-clean-consignee', 'h100-uae-after-move-to-a5', 'h100-uae-day-before-move', 'h200-china-day-before-rule', 'h200-china-exporter-unknown-stays-denial', 'h200-china-from-us-case-by-case', 'h200-china-from-us-stated-civil-end-use', 'h200-china-reexport-from-singapore', 'h200-chinese-parent-located-abroad', 'h200-macau-from-us', 'licence-covers-consignee-written-otherwise', 'licence-for-another-consignee', 'licence-too-small-for-the-order', 'mi308x-china', 'mi308x-china-after-august-licences', 'mi325x-china-from-us-case-by-case', 'mi355x-china-above-ceiling', 'rtx-pro-6000-china-figures-published', 'tier3-china-denial', 'training-military-intelligence-china', 'training-wmd-blocks-nac', 'training-wmd-end-user-headquartered-in-china', 'uae-tier2-lpp-replaces-country-scope'])
def case(file, name, o, expect, regimes=None, before=None, note=None, parties=None, ledger=None):
    if name in KNOWN_CASES:
        for x in (before or [])+[o]:
            x['due_diligence']={**KNOWN_CUSTOMER, **x.get('due_diligence', {})}
            if name in NO_TRAINING: x['due_diligence']['training_operations']=0
    c={"name": name}
    if note: c["note"]=note
    if regimes: c["regimes"]=regimes
    if parties: c["parties"]=parties
    if ledger: c["ledger"]=ledger
    if before: c["orders"]=before+[o]
    else: c["order"]=o
    c["expect"]=expect
    files.setdefault(file, []).append(c)

INF=["inference"]
# --- October 2022 rules and the August 2022 letter
f='acs-2022'
case(f,'a100-letter-china-2022-09', order('l1','2022-09-15','nvidia-a100','CN'), {"outcome":"license_required","rules":["a100-letter-2022.named"]})
case(f,'a100-letter-russia-2022-09', order('l2','2022-09-15','nvidia-a100','RU'), {"outcome":"license_required","rules":["a100-letter-2022.named","russia-belarus-2022.ccl"]})
case(f,'a100-before-letter-china-2022-08-25', order('l3','2022-08-25','nvidia-a100','CN'), {"outcome":"no_license_required","eccn":"not_3A090"})
case(f,'h100-china-2023-06', order('c1','2023-06-01','nvidia-h100-sxm','CN'), {"outcome":"license_required","review_policy":"presumption_of_denial","eccn":"3A090.a","rules":["acs-2022.china"],"tpp_total":126650})
case(f,'h800-china-2023-06-outside-2022-thresholds', order('c2','2023-06-01','nvidia-h800','CN'), {"outcome":"no_license_required","eccn":"not_3A090","not_rules":["acs-2022.china"]})
case(f,'a800-china-2023-06-outside-2022-thresholds', order('c3','2023-06-01','nvidia-a800','CN'), {"outcome":"no_license_required","eccn":"not_3A090"})
case(f,'a100-china-2023-06', order('c4','2023-06-01','nvidia-a100','CN'), {"outcome":"license_required","eccn":"3A090.a","rules":["acs-2022.china"]})
case(f,'h100-macau-before-2023-01-17', order('c5','2023-01-16','nvidia-h100-sxm','MO'), {"outcome":"no_license_required"})
case(f,'h100-macau-from-2023-01-17', order('c6','2023-01-17','nvidia-h100-sxm','MO'), {"outcome":"license_required","rules":["acs-2022-macau.macau"]})
case(f,'h100-vietnam-2023-06-china-only', order('c7','2023-06-01','nvidia-h100-sxm','VN'), {"outcome":"no_license_required"})
case(f,'h100-hong-kong-2023-06-as-china', order('c8','2023-06-01','nvidia-h100-sxm','HK'), {"outcome":"license_required","rules":["acs-2022.china"]})
case(f,'h800-china-2023-11-16-last-day-of-2022-rule', order('c9','2023-11-16','nvidia-h800','CN'), {"outcome":"no_license_required","eccn":"not_3A090"})
# the 23 Oct 2023 notice to NVIDIA (issue 13, item 8)
NV={"name":"NVIDIA Corporation","country":"US"}
L23="NVIDIA Form 8-K of 24 October 2023 (as quoted): on 23 October 2023 the USG informed NVIDIA that the 88 FR 73458 licensing requirements for TPP >= 4800 datacenter products were effective immediately, impacting its A100, A800, H100, H800 and L40S"
case(f,'h800-china-2023-11-01-nvidia-letter', order('n1','2023-11-01','nvidia-h800','CN',exporter=NV), {"outcome":"license_required","review_policy":"presumption_of_denial","eccn":"not_3A090","rules":["nvidia-letter-2023-10.country-scope","nvidia-letter-2023-10.headquarters"]}, note=L23+"; China is D:5 (presumption of denial, 88 FR 73458).")
case(f,'h800-china-2023-10-22-nvidia-day-before-letter', order('n2','2023-10-22','nvidia-h800','CN',exporter=NV), {"outcome":"no_license_required","eccn":"not_3A090","not_rules":["nvidia-letter-2023-10.country-scope"]}, note=L23+"; the day before, the H800 was outside the October 2022 thresholds (87 FR 62186).")
case(f,'h800-china-2023-11-01-other-exporter-not-bound', order('n3','2023-11-01','nvidia-h800','CN'), {"outcome":"no_license_required","eccn":"not_3A090","not_rules":["nvidia-letter-2023-10.country-scope"]}, note=L23+". The notice binds NVIDIA, its addressee; other exporters were bound from 17 November 2023 (88 FR 73458).")
case(f,'h800-china-2023-11-01-exporter-unknown-holds', order('n4','2023-11-01','nvidia-h800','CN',exporter=None), {"outcome":"hold_for_review","rules":["nvidia-letter-2023-10.country-scope"]}, note=L23+". Without the exporter the notice may bind the order: fail closed.")
case(f,'l40s-vietnam-2023-11-01-nvidia-letter', order('n5','2023-11-01','nvidia-l40s','VN',exporter=NV), {"outcome":"license_required","review_policy":"unknown","rules":["nvidia-letter-2023-10.country-scope"]}, note=L23+"; Vietnam is in D:1/D:4, outside D:5 (no review policy stated, as for acs-2023).")
case(f,'h800-malaysian-subsidiary-of-chinese-parent-2023-11-01-nvidia', order('n6','2023-11-01','nvidia-h800','MY',exporter=NV,consignee=party("Kuala Compute Sdn Bhd","MY","MY","CN")), {"outcome":"license_required","review_policy":"presumption_of_denial","rules":["nvidia-letter-2023-10.headquarters"],"not_rules":["nvidia-letter-2023-10.country-scope"]}, note=L23+"; the rule's headquarters requirement (then 15 CFR 744.23(a)(3), 88 FR 73458).")
case(f,'l40-china-2023-11-01-nvidia-not-named', order('n7','2023-11-01','nvidia-l40','CN',exporter=NV), {"outcome":"no_license_required","not_rules":["nvidia-letter-2023-10.country-scope"]}, note=L23+"; the L40 is not named (its requirement came with the rule on 17 November 2023).")
case(f,'h800-china-2023-11-17-letter-superseded-by-rule', order('n8','2023-11-17','nvidia-h800','CN',exporter=NV), {"outcome":"license_required","rules":["acs-2023.country-scope"],"not_rules":["nvidia-letter-2023-10.country-scope"]}, note="From 17 November 2023 88 FR 73458 binds every exporter; the notice adds nothing.")

# --- October 2023 rule
f='acs-2023'
case(f,'h800-china-2023-11-17', order('d1','2023-11-17','nvidia-h800','CN'), {"outcome":"license_required","review_policy":"presumption_of_denial","eccn":"3A090.a","rules":["acs-2023.country-scope","acs-2023.headquarters"]})
case(f,'a800-china-2023-12', order('d2','2023-12-01','nvidia-a800','CN'), {"outcome":"license_required","eccn":"3A090.a"})
case(f,'l40-china-nac-before-split', order('d3','2023-12-01','nvidia-l40','CN',end_use=INF), {"outcome":"license_exception","exception":"NAC","eccn":"3A090.b","conditions":["nac_notification"]})
case(f,'l40-vietnam-aca-after-split', order('d4','2024-05-01','nvidia-l40','VN',end_use=INF), {"outcome":"license_exception","exception":"ACA","eccn":"3A090.b"})
case(f,'l40-vietnam-nac-before-split', order('d4b','2024-04-03','nvidia-l40','VN',end_use=INF), {"outcome":"license_exception","exception":"NAC"})
case(f,'l40-china-nac-after-split', order('d5','2024-05-01','nvidia-l40','CN',end_use=INF), {"outcome":"license_exception","exception":"NAC"})
NAC1="15 CFR 740.8 after the 4 April 2024 split (89 FR 23876): NAC authorises exports 'to Macau and destinations in Country Group D:5 and entities headquartered in, or with an ultimate parent headquartered in, Macau or a destination specified in Country Group D:5, wherever located' (Baker McKenzie's summary [S]); ACA covers D:1/D:4 destinations other than Macau and D:5. An exception whose own text covers the whole transaction meets every requirement that admits it. Issue 13 item 1"
case(f,'l40-vietnam-chinese-parent-nac-covers-both', order('d4c','2024-05-01','nvidia-l40','VN',end_use=INF,consignee=party("Hanoi Render JSC","VN","VN","CN")), {"outcome":"license_exception","exception":"NAC","eccn":"3A090.b","conditions":["nac_notification"],"rules":["acs-2023.country-scope","acs-2023.headquarters","LE-NAC.covers"]}, note=NAC1+". The L40 to a Vietnamese company with a Chinese parent meets the destination requirement (D:1) and the headquarters requirement; NAC's text covers both (before: licence, presumption of denial, no exception common to both).")
case(f,'h100-vietnam-chinese-parent-no-nac-for-datacenter-a', order('d4d','2024-05-01','nvidia-h100-sxm','VN',end_use=INF,consignee=party("Hanoi Compute JSC","VN","VN","CN")), {"outcome":"license_required","review_policy":"presumption_of_denial","exception":None,"not_rules":["LE-NAC.covers"]}, note=NAC1+". NAC and ACA do not reach a 3A090.a datacenter IC (740.8(a)).")
case(f,'l40-vietnam-vietnamese-parent-aca', order('d4e','2024-05-01','nvidia-l40','VN',end_use=INF,consignee=party("Saigon Render JSC","VN")), {"outcome":"license_exception","exception":"ACA","not_rules":["LE-NAC.covers","acs-2023.headquarters"]}, note=NAC1+". No Macau/D:5 headquarters: ACA, without notification.")
case(f,'l40-vietnam-chinese-parent-before-split-nac', order('d4f','2024-04-03','nvidia-l40','VN',end_use=INF,consignee=party("Hanoi Render JSC","VN","VN","CN")), {"outcome":"license_exception","exception":"NAC","not_rules":["LE-NAC.covers"]}, note="Before the 4 April 2024 split NAC (88 FR 73458) reached every destination in the rule's scope and the headquarters requirement alike; no covering is needed. Issue 13 item 1.")
NAC11="Before the 4 April 2024 split, 15 CFR 740.8 (88 FR 73458) required notification (740.8(a)(2), AES code C67) only for NAC exports and reexports to Macau or D:5 and to entities headquartered, or with an ultimate parent headquartered, in Macau or D:5, wherever located; NAC also authorised exports to other D:1/D:4 destinations without notification (AES code C68, 'NAC (NO notification required)', renamed ACA by 89 FR 23876) (CBP AES guidance as reproduced by Oracle; CSMS 61882672 [S]). Issue 13 item 11"
case(f,'l40-saudi-2024-01-15-nac-no-notification', order('d4g','2024-01-15','nvidia-l40','SA',end_use=INF), {"outcome":"license_exception","exception":"NAC","conditions":["aes_code"],"not_conditions":["nac_notification"]}, note=NAC11+". Saudi Arabia is D:4, not D:5 or Macau, and the buyer is Saudi: no notification (before: the notification condition on every pre-split NAC export).")
case(f,'l40-vietnam-2024-04-03-nac-no-notification', order('d4h','2024-04-03','nvidia-l40','VN',end_use=INF,consignee=party("Saigon Render JSC","VN")), {"outcome":"license_exception","exception":"NAC","conditions":["aes_code"],"not_conditions":["nac_notification"]}, note=NAC11+". The last day before the split; Vietnam is D:1, outside D:5.")
case(f,'l40-macau-2024-01-15-nac-notification', order('d4i','2024-01-15','nvidia-l40','MO',end_use=INF), {"outcome":"license_exception","exception":"NAC","conditions":["nac_notification"],"not_conditions":["aes_code"]}, note=NAC11+". Macau: notification.")
case(f,'l40-vietnam-chinese-parent-2024-01-15-nac-notification', order('d4j','2024-01-15','nvidia-l40','VN',end_use=INF,consignee=party("Hanoi Render JSC","VN","VN","CN")), {"outcome":"license_exception","exception":"NAC","conditions":["nac_notification"],"not_conditions":["aes_code"]}, note=NAC11+". A Vietnamese company with a Chinese parent: the headquarters limb requires notification though the destination alone would not.")
case(f,'l40-malaysia-chinese-parent-2024-01-15-nac-notification', order('d4k','2024-01-15','nvidia-l40','MY',end_use=INF,consignee=party("Kuala Render Sdn Bhd","MY","MY","CN")), {"outcome":"license_exception","exception":"NAC","conditions":["nac_notification"],"rules":["acs-2023.headquarters"],"not_rules":["acs-2023.country-scope"]}, note=NAC11+". Malaysia is outside the destination scope; the Chinese parent brings the headquarters requirement and its notification.")
case(f,'h100-vietnam-license', order('d6','2024-05-01','nvidia-h100-sxm','VN'), {"outcome":"license_required","review_policy":"unknown","rules":["acs-2023.country-scope"],"not_rules":["acs-2023.headquarters"]})
case(f,'h100-saudi-license', order('d7','2024-05-01','nvidia-h100-sxm','SA'), {"outcome":"license_required","rules":["acs-2023.country-scope"]})
case(f,'h100-israel-a6-carve-out', order('d8','2024-05-01','nvidia-h100-sxm','IL'), {"outcome":"no_license_required","not_rules":["acs-2023.country-scope"]})
case(f,'h100-uae-d4-license', order('d9','2024-05-01','nvidia-h100-sxm','AE'), {"outcome":"license_required","rules":["acs-2023.country-scope"]})
case(f,'h100-uae-after-move-to-a5', order('d10','2026-08-01','nvidia-h100-sxm','AE'), {"outcome":"license_required","rules":["uae-2026.advanced-computing"],"not_rules":["acs-2023.country-scope"]})
case(f,'h100-uae-day-before-move', order('d10b','2026-07-09','nvidia-h100-sxm','AE'), {"outcome":"license_required","rules":["acs-2023.country-scope"],"not_rules":["uae-2026.advanced-computing"]})
case(f,'h100-singapore-a6', order('d11','2024-05-01','nvidia-h100-sxm','SG'), {"outcome":"no_license_required"})
case(f,'h100-malaysian-subsidiary-of-chinese-parent', order('d12','2024-05-01','nvidia-h100-sxm','MY',consignee=party("Kuala Compute Sdn Bhd","MY","MY","CN")), {"outcome":"license_required","review_policy":"presumption_of_denial","rules":["acs-2023.headquarters"],"not_rules":["acs-2023.country-scope"]})
case(f,'h100-malaysian-company-malaysian-parent', order('d13','2024-05-01','nvidia-h100-sxm','MY',consignee=party("Penang AI Bhd","MY")), {"outcome":"no_license_required"})
case(f,'h100-germany-parent-unknown-fails-closed', order('d14','2024-05-01','nvidia-h100-sxm','DE',consignee={"name":"Berlin GPU GmbH","country":"DE","headquarters":"DE"}), {"outcome":"hold_for_review","rules":["acs-2023.headquarters"]})
case(f,'h100-germany-no-headquarters-fails-closed', order('d14b','2024-05-01','nvidia-h100-sxm','DE',consignee={"name":"Berlin GPU GmbH","country":"DE"}), {"outcome":"hold_for_review","rules":["acs-2023.headquarters"]})
case(f,'h100-hong-kong-as-china', order('d15','2024-05-01','nvidia-h100-sxm','HK'), {"outcome":"license_required","review_policy":"presumption_of_denial","rules":["acs-2023.country-scope"]})
case(f,'h100-macau', order('d16','2024-05-01','nvidia-h100-sxm','MO'), {"outcome":"license_required","review_policy":"presumption_of_denial","rules":["acs-2023.country-scope","acs-2023.headquarters"]})
case(f,'h100-cyprus-headquarters-while-d5', order('d17','2023-12-01','nvidia-h100-sxm','CY'), {"outcome":"license_required","rules":["acs-2023.headquarters"],"not_rules":["acs-2023.country-scope"]})
case(f,'h100-cyprus-after-leaving-d5', order('d18','2024-06-01','nvidia-h100-sxm','CY'), {"outcome":"no_license_required"})
case(f,'rtx4090-china-nac', order('d19','2024-05-01','nvidia-rtx-4090','CN',end_use=INF), {"outcome":"license_exception","exception":"NAC","eccn":"3A090.a"})
case(f,'rtx4090-china-end-use-unknown-holds', order('d19b','2025-06-01','nvidia-rtx-4090','CN'), {"outcome":"hold_for_review"})
case(f,'rtx4090d-china-outside-3a090', order('d20','2024-05-01','nvidia-rtx-4090d','CN'), {"outcome":"no_license_required","eccn":"not_3A090"})
case(f,'rtx5090d-china-outside-3a090', order('d21','2025-03-01','nvidia-rtx-5090d','CN'), {"outcome":"no_license_required","eccn":"not_3A090"})
case(f,'l20-china-outside-3a090', order('d22','2024-05-01','nvidia-l20','CN'), {"outcome":"no_license_required"})
case(f,'l2-china-outside-3a090', order('d23','2024-05-01','nvidia-l2','CN'), {"outcome":"no_license_required"})
case(f,'hgx-h100-server-china-4a090', order('d24','2024-05-01','nvidia-hgx-h100-8gpu','CN',qty=2), {"outcome":"license_required","eccn":"4A090.a","tpp_total":253299,"rules":["acs-2023.country-scope"]})
case(f,'hgx-h100-server-israel', order('d25','2024-05-01','nvidia-hgx-h100-8gpu','IL'), {"outcome":"no_license_required","eccn":"4A090.a"})
KH7="The Note to Country Group D:5 (15 CFR part 740, Supp. No. 1) makes the State Department's arms-embargo list controlling; State removed Cambodia from ITAR 126.1 by a final rule effective 7 November 2025 (S: Crowell & Moring, Export Compliance Daily); BIS conformed the table on 3 February 2026 (FR Doc. 2026-02262). data/COUNTRIES.md; issue 13 item 7"
case(f,'cambodia-2026-01-15-out-of-d5-under-the-note', order('d26','2026-01-15','nvidia-h100-sxm','KH'), {"outcome":"license_required","review_policy":"unknown","rules":["acs-2023.country-scope"]}, note=KH7+". Was `cambodia-while-d5` expecting presumption of denial (the table date); on 15 January 2026 Cambodia is in D:1 (licence, 88 FR 73458) but no longer D:5, so no presumption of denial.")
case(f,'cambodia-2025-11-06-last-day-in-d5', order('d26b','2025-11-06','nvidia-h100-sxm','KH'), {"outcome":"license_required","review_policy":"presumption_of_denial","rules":["acs-2023.country-scope"]}, note=KH7+". The day before State's rule took effect Cambodia was D:5 (86 FR 70015/70053): presumption of denial (88 FR 73458: presumption of denial for Macau and D:5 destinations).")
case(f,'cambodia-2025-11-07-left-d5', order('d26c','2025-11-07','nvidia-h100-sxm','KH'), {"outcome":"license_required","review_policy":"unknown","rules":["acs-2023.country-scope"]}, note=KH7+". From 7 November 2025 Cambodia is D:1 only.")
case(f,'cambodia-after-leaving-d5', order('d27','2026-03-01','nvidia-h100-sxm','KH'), {"outcome":"license_required","review_policy":"unknown","rules":["acs-2023.country-scope"]})
case(f,'nicaragua-before-d1-d5', order('d28','2024-03-14','nvidia-h100-sxm','NI'), {"outcome":"no_license_required"})
case(f,'nicaragua-after-d1-d5', order('d29','2024-03-15','nvidia-h100-sxm','NI'), {"outcome":"license_required","review_policy":"presumption_of_denial"})
# catalog items without throughput figures (issue 13, item 12)
N12="shared/reference/chips.md: the RTX PRO 6000D has 'no published tensor throughput, so TPP is not computed'; the catalog says why (meta.missing_figures)"
case(f,'rtx-pro-6000d-china-no-figures-holds', order('d34','2026-02-01','nvidia-rtx-pro-6000d','CN',end_use=INF), {"outcome":"hold_for_review","eccn":"indeterminate","rules":["acs-2023.country-scope"]}, note=N12+". Indeterminate under 3A090 (88 FR 73458) and China is in the rule's scope: held, never cleared.")
case(f,'rtx-pro-6000d-germany-no-rule-reaches', order('d35','2026-02-01','nvidia-rtx-pro-6000d','DE',end_use=INF,consignee=party('Customer DE','DE',ownership_checked=True)), {"outcome":"no_license_required","eccn":"indeterminate"}, note=N12+". Germany is outside every rule that reaches a 3A090 item (88 FR 73458 scope: D:1, D:4, D:5 not in A:5/A:6, and Macau).")
case(f,'rtx-pro-6000-china-figures-published', order('d36','2026-02-01','nvidia-rtx-pro-6000','CN',end_use=INF), {"outcome":"license_exception","exception":"NAC","eccn":"3A090.a"}, note="The RTX PRO 6000 (not D) has published figures (chips.csv: NVIDIA's '4,000 AI TOPS', FP4 with sparsity, dense FP8 1,000): TPP 8,000, a non-datacenter 3A090.a IC, NAC to China (15 CFR 740.8(a)(1), 89 FR 23876).")
case(f,'unknown-die-area-china-fails-closed', order('d30','2024-05-01',None,'CN',spec={"name":"mystery accelerator","kind":"ic","datacenter":True,"dense_tops":{"fp16":200}}), {"outcome":"hold_for_review","eccn":"indeterminate"})
case(f,'unknown-die-area-germany-no-rule-reaches', order('d31','2024-05-01',None,'DE',spec={"name":"mystery accelerator","kind":"ic","datacenter":True,"dense_tops":{"fp16":200}}), {"outcome":"no_license_required","eccn":"indeterminate"})
case(f,'iran-any-item', order('d32','2024-05-01','nvidia-l2','IR'), {"outcome":"license_required","rules":["embargoes.e1-e2"]})
case(f,'russia-any-item', order('d33','2024-05-01','nvidia-rtx-4090d','RU'), {"outcome":"license_required","rules":["russia-belarus-2022.ccl"]})

# --- HBM
f='hbm-2024'
case(f,'hbm3-china-day-before', order('h1','2024-12-01','hbm3','CN'), {"outcome":"no_license_required","eccn":"not_3A090"})
HBM6="89 FR 96790 is effective 2 December 2024, but exporters were not required to comply with its changes (the HBM licence requirements among them) until 31 December 2024; the red flags, license exceptions and TGLs applied from 2 December (DATES; regulations.md section 0 row 5 [P]; Covington, 9 Dec 2024 [S]). Issue 13 item 6"
case(f,'hbm3-china-2024-12-02-effective-not-yet-compliance', order('h2','2024-12-02','hbm3','CN'), {"outcome":"no_license_required","eccn":"not_3A090","not_rules":["hbm-2024.country-scope"]}, note=HBM6+". Was `hbm3-china-from-2024-12-02` expecting a licence from the effective date; the requirement binds from the compliance date.")
case(f,'hbm3-china-2024-12-30-last-day-before-compliance', order('h2b','2024-12-30','hbm3','CN'), {"outcome":"no_license_required","eccn":"not_3A090","not_rules":["hbm-2024.country-scope"]}, note=HBM6+".")
case(f,'hbm3-china-from-2024-12-31-compliance', order('h2c','2024-12-31','hbm3','CN'), {"outcome":"license_required","eccn":"3A090.c","review_policy":"presumption_of_denial","rules":["hbm-2024.country-scope"]}, note=HBM6+". From 31 December 2024: 3A090.c to D:5 (China), presumption of denial.")
case(f,'hbm3e-korea', order('h3','2025-01-10','hbm3e','KR'), {"outcome":"no_license_required","eccn":"3A090.c"})
case(f,'hbm2e-china-above-3-3', order('h4','2025-01-10','hbm2e','CN'), {"outcome":"license_required","eccn":"3A090.c"})
HBM4="License Exception HBM (15 CFR 740.25, 89 FR 96790) has party and reporting conditions beyond the density bound; their text could not be read (regulations.md section 2.5: 'Exact eligible-party conditions: [U] — read 740.25 before encoding'). Fail closed: the exception is offered only on the exporter's statement that the transaction meets them (due_diligence.hbm_exception_conditions_met), and then unconfirmed. Issue 13 item 4"
SLOW={"name":"slow HBM stack","kind":"hbm","hbm_bandwidth_gbs":290,"package_area_mm2":92}
def hbm_dd(o, met):
    o['due_diligence']={"hbm_exception_conditions_met": met}
    return o
case(f,'hbm-below-3-3-conditions-not-stated-licence', order('h5','2025-01-10',None,'CN',spec=SLOW), {"outcome":"license_required","eccn":"3A090.c","exception":None,"rules":["hbm-2024.country-scope"]}, note=HBM4+". Was `hbm-below-3-3-exception-unconfirmed` (License Exception HBM for any consignee): without the statement a licence is required.")
case(f,'hbm-below-3-3-conditions-stated-exception-unconfirmed', hbm_dd(order('h5b','2025-01-10',None,'CN',spec=SLOW),True), {"outcome":"license_exception","exception":"HBM","eccn":"3A090.c","unconfirmed":True,"conditions":["hbm_exception_terms"]}, note=HBM4+". With the statement: License Exception HBM, unconfirmed.")
case(f,'hbm-below-3-3-conditions-not-met-licence', hbm_dd(order('h5c','2025-01-10',None,'CN',spec=SLOW),False), {"outcome":"license_required","eccn":"3A090.c","exception":None}, note=HBM4+". The exporter states the conditions are not met: a licence is required.")
case(f,'hbm3-above-3-3-statement-does-not-help', hbm_dd(order('h5d','2025-01-10','hbm3','CN'),True), {"outcome":"license_required","eccn":"3A090.c","exception":None}, note=HBM4+". HBM3 is above 3.3 GB/s/mm²: the exception's density bound is not met whatever the parties.")
case(f,'hbm-at-2-gbs-mm2-outside', order('h6','2025-01-10',None,'CN',spec={"name":"HBM at the line","kind":"hbm","hbm_bandwidth_gbs":184,"package_area_mm2":92}), {"outcome":"no_license_required","eccn":"not_3A090"})
case(f,'hbm3-to-subsidiary-of-chinese-parent', order('h7','2025-01-10','hbm3','MY',consignee=party("KL Memory Sdn Bhd","MY","MY","CN")), {"outcome":"license_required","rules":["hbm-2024.headquarters"]})

# --- AI Diffusion
f='ai-diffusion-2025'
D=["ai-diffusion-2025"]
case(f,'tier1-germany-aia', order('a1','2025-06-01','nvidia-h100-sxm','DE'), {"outcome":"license_exception","exception":"AIA","rules":["ai-diffusion-2025.worldwide"]}, regimes=D)
case(f,'tier1-germany-not-enforced', order('a2','2025-06-01','nvidia-h100-sxm','DE'), {"outcome":"no_license_required","not_rules":["ai-diffusion-2025.worldwide"]})
case(f,'tier2-india-lpp', order('a3','2025-06-01','nvidia-h100-sxm','IN'), {"outcome":"license_exception","exception":"LPP","conditions":["lpp_certification"]}, regimes=D)
case(f,'tier2-india-not-enforced', order('a4','2025-06-01','nvidia-h100-sxm','IN'), {"outcome":"no_license_required"})
case(f,'tier3-china-denial', order('a5','2025-06-01','nvidia-h100-sxm','CN'), {"outcome":"license_required","review_policy":"presumption_of_denial","rules":["ai-diffusion-2025.worldwide","acs-2023.headquarters"]}, regimes=D)
case(f,'before-compliance-date', order('a6','2025-05-14','nvidia-h100-sxm','IN'), {"outcome":"no_license_required","not_rules":["ai-diffusion-2025.worldwide"]}, regimes=D)
big=party("Mumbai Cloud Pvt Ltd","IN")
case(f,'lpp-within-year-limit', order('a8','2025-09-01','nvidia-h100-sxm','IN',qty=90,consignee=big), {"outcome":"license_exception","exception":"LPP"}, regimes=D, before=[order('a7','2025-06-01','nvidia-h100-sxm','IN',qty=1600,consignee=big)])
case(f,'lpp-over-year-limit', order('a9','2025-09-01','nvidia-h100-sxm','IN',qty=100,consignee=big), {"outcome":"license_required","rules":["ai-diffusion-2025.worldwide","LE-LPP.quota"]}, regimes=D, before=[order('a7','2025-06-01','nvidia-h100-sxm','IN',qty=1600,consignee=big)])
case(f,'lpp-limit-per-calendar-year', order('a10','2026-01-05','nvidia-h100-sxm','IN',qty=200,consignee=big), {"outcome":"license_exception","exception":"LPP"}, regimes=D, before=[order('a7','2025-06-01','nvidia-h100-sxm','IN',qty=1600,consignee=big)])
case(f,'lpp-limit-per-consignee', order('a11','2025-09-01','nvidia-h100-sxm','IN',qty=200,consignee=party("Pune Compute Pvt Ltd","IN")), {"outcome":"license_exception","exception":"LPP"}, regimes=D, before=[order('a7','2025-06-01','nvidia-h100-sxm','IN',qty=1600,consignee=big)])
case(f,'single-order-over-lpp', order('a12','2025-06-01','nvidia-hgx-h100-8gpu','PL',qty=250), {"outcome":"license_required","rules":["LE-LPP.quota"]}, regimes=D)
case(f,'b-items-unchanged', order('a13','2025-06-01','nvidia-l40','IN'), {"outcome":"no_license_required"}, regimes=D)
case(f,'uae-tier2-lpp-replaces-country-scope', order('a14','2025-06-01','nvidia-h100-sxm','AE'), {"outcome":"license_exception","exception":"LPP","not_rules":["acs-2023.country-scope"]}, regimes=D)
case(f,'tier1-destination-tier2-headquarters-no-aia', order('a15','2025-06-01','nvidia-h100-sxm','DE',consignee=party("Frankfurt Bharat GmbH","DE","IN","IN")), {"outcome":"license_exception","exception":"LPP"}, regimes=D)
case(f,'tier1-destination-chinese-parent', order('a16','2025-06-01','nvidia-h100-sxm','DE',consignee=party("Rheinwerk Compute GmbH","DE","DE","CN")), {"outcome":"license_required","rules":["acs-2023.headquarters","ai-diffusion-2025.worldwide"]}, regimes=D)
case(f,'united-states-domestic', order('a17','2025-06-01','nvidia-h100-sxm','US'), {"outcome":"no_license_required"}, regimes=D)

# --- H20 and MI308
f='h20-2025'
case(f,'h20-china-before-letter', order('t1','2025-04-08','nvidia-h20','CN'), {"outcome":"no_license_required","eccn":"not_3A090"})
case(f,'h20-china-from-letter', order('t2','2025-04-09','nvidia-h20','CN'), {"outcome":"license_required","eccn":"not_3A090","rules":["h20-2025.destination"],"conditions":[]})
case(f,'h20-china-after-august-licences', order('t3','2025-09-01','nvidia-h20','CN'), {"outcome":"license_required","rules":["h20-2025.destination","h20-licences-2025-08.revenue-share"],"conditions":["revenue_share_percent"]})
case(f,'h20-germany', order('t4','2025-06-01','nvidia-h20','DE'), {"outcome":"no_license_required"})
case(f,'h20-subsidiary-of-chinese-parent', order('t5','2025-06-01','nvidia-h20','MY',consignee=party("KL AI Sdn Bhd","MY","MY","CN")), {"outcome":"license_required","rules":["h20-2025.headquarters"]})
case(f,'mi308x-china', order('t6','2025-06-01','amd-mi308x','CN'), {"outcome":"license_required","eccn":"indeterminate","rules":["h20-2025.destination"]})
case(f,'mi308x-germany-indeterminate-but-unreached', order('t7','2025-06-01','amd-mi308x','DE'), {"outcome":"no_license_required","eccn":"indeterminate"})
case(f,'h20-bandwidth-match-by-spec', order('t8','2025-06-01',None,'CN',spec={"name":"bandwidth twin","kind":"ic","datacenter":True,"dense_tops":{"fp16":50},"die_area_mm2":600,"non_planar":True,"memory_bandwidth_gbs":4000,"interconnect_gbs":100}), {"outcome":"license_required","rules":["h20-2025.destination"]})
case(f,'h20-hong-kong', order('t9','2025-06-01','nvidia-h20','HK'), {"outcome":"license_required"})
case(f,'mi308x-china-after-august-licences', order('t10','2025-09-01','amd-mi308x','CN'), {"outcome":"license_required","conditions":["revenue_share_percent"]})
# MI308 dates (issue 13, item 11): AMD's 8-K (filed 16 Apr 2025) says AMD completed its assessment on 15 Apr 2025
M11="AMD Form 8-K filed 16 April 2025: AMD completed an initial assessment of the new MI308 licence requirement on 15 April 2025; when AMD was informed is not public, while NVIDIA was informed on 9 April 2025 (NVIDIA Form 8-K of 15 April 2025)"
case(f,'mi308x-china-2025-04-08-before-any-letter', order('t11','2025-04-08','amd-mi308x','CN'), {"outcome":"hold_for_review","eccn":"indeterminate","not_rules":["h20-2025.destination","mi308-letter-2025-window.destination"]}, note=M11+". Before 9 April no letter applies; the hold is the indeterminate ECCN under 88 FR 73458 (unchanged).")
case(f,'mi308x-china-2025-04-10-date-unconfirmed', order('t12','2025-04-10','amd-mi308x','CN'), {"outcome":"license_required","unconfirmed":True,"rules":["h20-2025.destination","mi308-letter-2025-window.destination"]}, note=M11+". Fail closed: the requirement is applied from 9 April and the decision says unconfirmed.")
case(f,'mi308x-china-2025-04-14-date-unconfirmed', order('t13','2025-04-14','amd-mi308x','CN'), {"outcome":"license_required","unconfirmed":True,"rules":["mi308-letter-2025-window.destination"]}, note=M11+". The last day before AMD's assessment date.")
case(f,'mi308x-china-2025-04-15-amd-8k', order('t14','2025-04-15','amd-mi308x','CN'), {"outcome":"license_required","review_policy":"unknown","unconfirmed":True,"rules":["h20-2025.destination"],"not_rules":["mi308-letter-2025-window.destination"]}, note=M11+". From 15 April the requirement rests on AMD's filing [S]; the letters state no review policy, so the policy is unknown and the decision unconfirmed (issue 20 item 9).")
case(f,'h20-china-2025-04-10-nvidia-date-confirmed', order('t15','2025-04-10','nvidia-h20','CN'), {"outcome":"license_required","review_policy":"unknown","unconfirmed":True,"rules":["h20-2025.destination"],"not_rules":["mi308-letter-2025-window.destination"]}, note="NVIDIA Form 8-K of 15 April 2025: NVIDIA was informed on 9 April 2025 [S]; the MI308 window does not touch the H20. The letter states no review policy, so the policy is unknown and the decision unconfirmed (issue 20 item 9).")

# --- 91 FR 1684
f='review-policy-2026'
case(f,'h200-china-from-us-case-by-case', order('r1','2026-02-01','nvidia-h200','CN',end_use=INF), {"outcome":"license_required","review_policy":"case_by_case","rules":["review-policy-2026.case-by-case"],"conditions":["certification","volume_cap_percent"]})
case(f,'h200-china-day-before-rule', order('r2','2026-01-14','nvidia-h200','CN'), {"outcome":"license_required","review_policy":"presumption_of_denial","not_rules":["review-policy-2026.case-by-case"]})
case(f,'mi325x-china-from-us-case-by-case', order('r3','2026-02-01','amd-mi325x','CN'), {"outcome":"license_required","review_policy":"case_by_case"})
R3="91 FR 1684 relaxes the review policy to case by case only when its conditions hold (regulations.md section 7.1: item below TPP 21,000 and DRAM bandwidth 6,500 GB/s, end users located in China or Macau, exports from the United States, no military end use [P]; reexports, exports from abroad and D:5/Macau-headquartered entities located elsewhere stay presumption of denial [S]). A fact that defeats a condition keeps the presumption of denial and the reason `review-policy-2026.case-by-case.not-met` names it. Issue 13 item 3"
case(f,'b200-china-above-ceiling', order('r4','2026-02-01','nvidia-b200','CN'), {"outcome":"license_required","review_policy":"presumption_of_denial","rules":["review-policy-2026.case-by-case.not-met"],"not_rules":["review-policy-2026.case-by-case"]}, note=R3+": the B200 is above the ceiling.")
case(f,'mi355x-china-above-ceiling', order('r5','2026-02-01','amd-mi355x','CN'), {"outcome":"license_required","review_policy":"presumption_of_denial"})
case(f,'h200-china-reexport-from-singapore', order('r6','2026-02-01','nvidia-h200','CN',exporter={"name":"SG Distributor Pte Ltd","country":"SG"}), {"outcome":"license_required","review_policy":"presumption_of_denial","rules":["review-policy-2026.case-by-case.not-met"],"not_rules":["review-policy-2026.case-by-case"]}, note=R3+": a reexport from Singapore is not an export from the United States.")
case(f,'h200-china-exporter-unknown-stays-denial', order('r7','2026-02-01','nvidia-h200','CN',exporter=None), {"outcome":"license_required","review_policy":"presumption_of_denial","rules":["review-policy-2026.case-by-case"]})
case(f,'h200-macau-from-us', order('r8','2026-02-01','nvidia-h200','MO'), {"outcome":"license_required","review_policy":"case_by_case"})
case(f,'h200-chinese-parent-located-abroad', order('r9','2026-02-01','nvidia-h200','MY',consignee=party("KL Cloud Sdn Bhd","MY","MY","CN")), {"outcome":"license_required","review_policy":"presumption_of_denial","rules":["review-policy-2026.case-by-case.not-met"],"not_rules":["review-policy-2026.case-by-case"]}, note=R3+": a company with a Chinese parent located in Malaysia is not an end user located in China or Macau.")
MIL="15 CFR 744.21 requires a licence, under a presumption of denial, for items in Supp. No. 2 to part 744 known to be for a military end use or end user in Belarus, Burma, Cambodia, China, Nicaragua, Russia or Venezuela; exportgate does not model Supp. No. 2, so such an order is held (section text not read: confidence U, the decision says unconfirmed). Issue 13 item 3"
case(f,'h200-china-from-us-military-end-use', order('r10','2026-02-01','nvidia-h200','CN',end_use=["military"]), {"outcome":"hold_for_review","unconfirmed":True,"rules":["review-policy-2026.case-by-case.not-met","military-744-21.military-end-use"],"not_rules":["review-policy-2026.case-by-case"]}, note=R3+": the order states a military end use; "+MIL+".")
case(f,'h200-china-from-us-stated-civil-end-use', order('r11','2026-02-01','nvidia-h200','CN',end_use=["inference"]), {"outcome":"license_required","review_policy":"case_by_case","rules":["review-policy-2026.case-by-case"],"not_rules":["review-policy-2026.case-by-case.not-met","military-744-21.military-end-use"]}, note=R3+": no military end use is stated; the certification stays a condition of the application.")
case(f,'l2-germany-military-end-use-no-744-21', order('r12','2026-02-01','nvidia-l2','DE',end_use=["military"],consignee=party('Customer DE','DE',ownership_checked=True)), {"outcome":"no_license_required","not_rules":["military-744-21.military-end-use"]}, note=MIL+"; Germany is not a 744.21 destination.")

# --- GP10 and end use
f='guidance-2025-05'
case(f,'ascend-910b-germany-gp10', order('g1','2025-05-13','huawei-ascend-910b','DE'), {"outcome":"hold_for_review","rules":["gp10.prc-3a090"]})
GP9="The 13 May 2025 GP10 guidance interpreted obligations that already existed: it presumes the Ascend 910B/910C/910D were designed with US software or technology or produced with equipment that is the direct product of US technology in violation of the EAR, pointing to the Entity List footnote 1 and 4 foreign direct product rules (Freshfields, AsianFin, Digital Policy Alert [S]). Huawei's footnote 1 rule reaches foreign-produced items made from Huawei's technology from 15 May 2020 (85 FR 29849) and any such item where Huawei is a party from 17 August 2020 (85 FR 51596) (Pillsbury, Paul Hastings [S]); General Prohibition 10 (15 CFR 736.2(b)(10)) forbids dealing in an item with knowledge of a violation in connection with it. Fail closed: held from 15 May 2020, unconfirmed (the reach back is this project's reading [D]). Issue 13 item 9"
case(f,'ascend-910b-germany-2025-05-12-held-under-huawei-fdp', order('g2','2025-05-12','huawei-ascend-910b','DE'), {"outcome":"hold_for_review","unconfirmed":True,"rules":["gp10.huawei-ascend-fdp"],"not_rules":["gp10.prc-3a090"]}, note=GP9+". Was `ascend-910b-germany-before-guidance` expecting no licence the day before the guidance; the obligation the guidance interprets existed from 15 May 2020.")
case(f,'ascend-910c-china-gp10-hold', order('g3','2025-06-01','huawei-ascend-910c','CN'), {"outcome":"hold_for_review","rules":["gp10.prc-3a090"]})
case(f,'ascend-910d-named-though-specs-unknown', order('g4','2025-06-01','huawei-ascend-910d','SG'), {"outcome":"hold_for_review","eccn":"indeterminate","rules":["gp10.prc-3a090"]})
case(f,'ascend-910b-germany-2022-01-03-held-under-huawei-fdp', order('g5','2022-01-03','huawei-ascend-910b','DE'), {"outcome":"hold_for_review","unconfirmed":True,"rules":["gp10.huawei-ascend-fdp"]}, note=GP9+". The hold runs from 15 May 2020 (85 FR 29849); the engine decides orders from 2022-01-01 (issue 15 item 2), so the first day it covers is held.")
case(f,'ascend-910b-germany-2020-05-14-outside-the-dates-covered', order('g6','2020-05-14','huawei-ascend-910b','DE'), {"error":{"field":"date","message_contains":["2020-05-14","2022-01-01"]}}, note=GP9+". The day before 85 FR 29849 took effect a Huawei-designed IC made abroad was not reached by the foreign direct product rule, but the engine decides orders only from 2022-01-01 (issue 15 item 2: dates the rules do not cover are an error, never an answer), so this order is rejected.")
case(f,'ascend-910c-china-2024-06-01-held-under-huawei-fdp', order('g7','2024-06-01','huawei-ascend-910c','CN'), {"outcome":"hold_for_review","unconfirmed":True,"rules":["gp10.huawei-ascend-fdp","acs-2023.country-scope"],"not_rules":["gp10.prc-3a090"]}, note=GP9+". The 88 FR 73458 licence requirement to China applies too; the GP10 hold comes first.")
case(f,'ascend-910b-germany-2025-05-13-guidance-takes-over', order('g8','2025-05-13','huawei-ascend-910b','DE'), {"outcome":"hold_for_review","unconfirmed":False,"rules":["gp10.prc-3a090"],"not_rules":["gp10.huawei-ascend-fdp"]}, note=GP9+". From 13 May 2025 the guidance itself (BIS guidance of 13 May 2025 [S]) holds the IC; the unconfirmed reading gives way to it.")
case(f,'h100-germany-2024-06-01-not-huawei-no-gp10', order('g9','2024-06-01','nvidia-h100-sxm','DE',end_use=INF,consignee=party('Customer DE','DE',ownership_checked=True)), {"outcome":"no_license_required","not_rules":["gp10.huawei-ascend-fdp"]}, note=GP9+". An IC not designed by Huawei is not reached by the footnote 1 reading.")
case(f,'prc-designed-spec-meeting-3a090', order('g5','2025-06-01',None,'DE',spec={"name":"PRC accelerator","kind":"ic","datacenter":True,"designer_country":"CN","dense_tops":{"fp16":400},"die_area_mm2":700,"non_planar":True}), {"outcome":"hold_for_review","rules":["gp10.prc-3a090"]})
case(f,'prc-designed-spec-below-3a090', order('g6','2025-06-01',None,'DE',spec={"name":"small PRC accelerator","kind":"ic","datacenter":True,"designer_country":"CN","dense_tops":{"fp16":50},"die_area_mm2":700,"non_planar":True}), {"outcome":"no_license_required","eccn":"not_3A090"})
case(f,'training-military-intelligence-china', order('g7','2025-06-01','nvidia-h100-sxm','CN',end_use=["ai_training","military_intelligence"]), {"outcome":"license_required","rules":["guidance-2025-05.training-destination"]})
case(f,'training-wmd-blocks-nac', order('g8','2025-06-01','nvidia-rtx-4090','CN',end_use=["ai_training","wmd"]), {"outcome":"license_required","rules":["guidance-2025-05.training-destination"]})
case(f,'training-wmd-end-user-headquartered-in-china', order('g9','2025-06-01','nvidia-l40','SG',end_use=["ai_training","wmd"],consignee=party("SG Lab Pte Ltd","SG","SG","CN")), {"outcome":"license_required","rules":["guidance-2025-05.training-headquarters"]})
# end-use tags (issue 13, item 13): the known tags are those the rules test plus data/end-use-tags.json
TAGS_NOTE="An unknown tag is rejected, never read as the absence of that end use: the training rules read `wmd`/`military_intelligence` (BIS policy statement of 13 May 2025, 15 CFR part 744); data/end-use-tags.json; data/RULES.md, item 13."
case(f,'end-use-tag-misspelt-rejected', order('g10','2025-06-01','nvidia-h100-sxm','CN',end_use=["militray"]), {"error":{"field":"end_use.tags[0]","message_contains":["`militray`","military_intelligence"]}}, note=TAGS_NOTE)
case(f,'end-use-tag-misspelt-after-known-tag-rejected', order('g11','2025-06-01','nvidia-rtx-4090','CN',end_use=["ai_training","wnd"]), {"error":{"field":"end_use.tags[1]","message_contains":["`wnd`","wmd"]}}, note=TAGS_NOTE)
case(f,'end-use-tag-military-holds-under-744-21', order('g12','2025-06-01','nvidia-l2','CN',end_use=["military"]), {"outcome":"hold_for_review","unconfirmed":True,"rules":["military-744-21.military-end-use"]}, note="Was `end-use-tag-military-not-modelled-rejected` (the tag was rejected while no rule read it; data/RULES.md item 13). Now `military` is read by the 15 CFR 744.21 hold and the 91 FR 1684 condition (issue 13 item 3): an L2 for a military end use in China is held for a person to check Supp. No. 2 to part 744.")
case(f,'end-use-tag-declared-descriptive-accepted', order('g13','2025-06-01','nvidia-rtx-4090','CN',end_use=["research"]), {"outcome":"license_exception","exception":"NAC","not_rules":["guidance-2025-05.training-destination"]}, note="`research` is declared in data/end-use-tags.json and read by no rule: the order is decided as without it (NAC for a non-datacenter 3A090.a IC to China, 15 CFR 740.8(a)(1), 89 FR 23876).")
case(f,'end-use-tag-known-training-wmd-after-fix', order('g14','2025-06-01','nvidia-rtx-4090','CN',end_use=["ai_training","wmd"]), {"outcome":"license_required","rules":["guidance-2025-05.training-destination"]}, note="The corrected spelling of g11: `wmd` with `ai_training` to China brings the part 744 requirement of the BIS policy statement of 13 May 2025, and NAC is not available.")

# --- affiliates
f='affiliates-2025'
owned=party("Owned GmbH","DE",owners=[{"name":"Huawei Technologies Co., Ltd.","percent":60,"listed":"EL"}])
case(f,'owned-by-listed-in-force', order('f1','2025-10-01','nvidia-l2','DE',consignee=owned), {"outcome":"license_required","review_policy":"presumption_of_denial","rules":["affiliates-2025.ownership"]})
case(f,'owned-by-listed-suspended', order('f2','2025-11-15','nvidia-l2','DE',consignee=owned), {"outcome":"no_license_required","not_rules":["affiliates-2025.ownership"]})
case(f,'owned-by-listed-back-in-force', order('f3','2026-11-23','nvidia-l2','DE',consignee=owned), {"outcome":"license_required","rules":["affiliates-2025.ownership"]})
case(f,'ownership-unchecked-fails-closed', order('f4','2026-11-23','nvidia-l2','DE'), {"outcome":"hold_for_review","rules":["affiliates-2025.ownership"]})
case(f,'ownership-checked-minority', order('f5','2026-11-23','nvidia-l2','DE',consignee=party("Bavaria Compute GmbH","DE",owners=[{"name":"Sugon","percent":30,"listed":"EL"}],ownership_checked=True)), {"outcome":"no_license_required"})
case(f,'aggregated-listed-owners', order('f6','2025-10-01','nvidia-l2','DE',consignee=party("Hanseatic Compute GmbH","DE",owners=[{"name":"A","percent":30,"listed":"EL"},{"name":"B","percent":25,"listed":"MEU"}])), {"outcome":"license_required","rules":["affiliates-2025.ownership"]})

for f,cases in files.items():
    path=os.path.join(DEST,f+'.json')
    json.dump({"cases":cases}, open(path,'w'), indent=1, ensure_ascii=False)
    open(path,'a').write('\n')

# --- screening against the real 2026 CSL
files.clear()
f='screening'
case(f,'huawei-entity-list-any-item', order('s1','2025-06-01','nvidia-l2','CN',consignee=party("Huawei Technologies Co., Ltd.","CN")), {"outcome":"license_required","review_policy":"presumption_of_denial","rules":["screening.EL"],"screening_hits":["EL"]})
case(f,'huawei-chinese-script', order('s2','2025-06-01','nvidia-l2','CN',consignee=party("华为技术有限公司","CN")), {"outcome":"license_required","rules":["screening.EL"],"screening_hits":["EL"]})
case(f,'sophgo-singapore-entity-list-blocks-no-licence-item', order('s3','2025-06-01','nvidia-rtx-4090d','SG',consignee=party("Sophgo Technologies Pte. Ltd.","SG")), {"outcome":"license_required","review_policy":"presumption_of_denial","rules":["screening.EL"]})
case(f,'entity-list-end-user-behind-clean-consignee', order('s4','2025-06-01','nvidia-l40','SG',end_use=INF,consignee=party("Lion City Distribution Pte Ltd","SG"),end_user=party("Beijing Zhipu Huazhang Technology Co., Ltd.","CN")), {"outcome":"license_required","rules":["screening.EL"]})
case(f,'entity-list-blocks-nac', order('s5','2025-06-01','nvidia-rtx-4090','CN',end_use=INF,consignee=party("Sugon Information Industry Co., Ltd.","CN")), {"outcome":"license_required","exception":None,"rules":["screening.EL"]})
case(f,'denied-person-holds', order('s6','2025-06-01','nvidia-l2','US',consignee=party("KAL TEK LABS","US")), {"outcome":"hold_for_review","rules":["screening.DPL"]})
case(f,'unverified-list-red-flag-holds', order('s7','2025-06-01','nvidia-l2','AM',consignee=party("Piricas Trading Company","AM")), {"outcome":"hold_for_review","rules":["screening.UVL"]})
case(f,'military-end-user-licence', order('s8','2025-06-01','nvidia-l2','CN',consignee=party("AECC Aviation Power Co. Ltd.","CN")), {"outcome":"license_required","rules":["screening.MEU"]})
case(f,'clean-party-screened-clean', order('s9','2025-06-01','nvidia-h100-sxm','IL',consignee=party("Tel Aviv Inference Ltd","IL")), {"outcome":"no_license_required","not_rules":["screening.EL"]})
# listing dates (issue 13, item 10): a hit applies from the entry's listing date where it can be established
SOPH="Sophgo Technologies Pte. Ltd. was added to the Entity List by 90 FR 4621 (FR Doc 2025-00480), 'effective January 16, 2025'; the 2026 CSL carries no start_date, so the date comes from the entry's earliest citation, 90 FR 4621, found among the checked documents in data/screening.json"
case(f,'sophgo-what-if-2024-06-01-before-listing', order('s10','2024-06-01','nvidia-rtx-4090d','SG',consignee=party("Sophgo Technologies Pte. Ltd.","SG")), {"outcome":"no_license_required","rules":["screening.EL.before-listing"],"not_rules":["screening.EL"]}, note=SOPH+". On 1 June 2024 the listing did not exist: the hit is recorded without effect.")
case(f,'sophgo-day-before-listing-2025-01-15', order('s11','2025-01-15','nvidia-rtx-4090d','SG',consignee=party("Sophgo Technologies Pte. Ltd.","SG")), {"outcome":"no_license_required","rules":["screening.EL.before-listing"],"not_rules":["screening.EL"]}, note=SOPH+". The day before the rule took effect.")
case(f,'sophgo-on-listing-day-2025-01-16', order('s12','2025-01-16','nvidia-rtx-4090d','SG',consignee=party("Sophgo Technologies Pte. Ltd.","SG")), {"outcome":"license_required","review_policy":"presumption_of_denial","rules":["screening.EL"],"not_rules":["screening.EL.before-listing"]}, note=SOPH+". From the effective date the entry's licence requirement (all items subject to the EAR) and policy apply (15 CFR 744.11).")
INSP="Inspur Electronic Information Industry Co., Ltd. was added by 90 FR 14046 (FR Doc 2025-05427), published 28 March 2025 and 'effective March 25, 2025': the effective date, not publication, starts the listing"
case(f,'inspur-after-effective-before-publication-2025-03-26', order('s13','2025-03-26','nvidia-l2','CN',consignee=party("Inspur Electronic Information Industry Co., Ltd.","CN")), {"outcome":"license_required","rules":["screening.EL"],"not_rules":["screening.EL.before-listing"]}, note=INSP+".")
case(f,'inspur-before-effective-2025-03-24', order('s14','2025-03-24','nvidia-l2','CN',consignee=party("Inspur Electronic Information Industry Co., Ltd.","CN")), {"outcome":"hold_for_review","rules":["screening.EL.before-listing","screening.EL.possible"],"not_rules":["screening.EL"]}, note=INSP+"; the day before it took effect the listing did not exist and the certain hits have no effect. The name is also a possible match (score below certainty) for Inspur Group Co., Ltd., listed in 2023 (88 FR 13675, a document not checked, so its date is unknown and the possible match applies): a reviewer must confirm or clear it.")
case(f,'sugon-listing-date-unknown-hit-applies-2022-01-03', order('s15','2022-01-03','nvidia-l2','CN',consignee=party("Sugon Information Industry Co., Ltd.","CN")), {"outcome":"license_required","rules":["screening.EL"],"not_rules":["screening.EL.before-listing"]}, note="The Sugon entry's earliest citation, 84 FR 29373 (June 2019), is not among the Federal Register documents checked (data/screening.json) and the 2026 CSL carries no start_date: the listing date cannot be established, so the hit applies with listing_date unknown (fail closed, issue 13 item 10). (This case was dated 2018-06-01, before the listing; such dates are now outside the range the rules cover and rejected, issue 15 item 2.)")
DATES="Issue 15 item 2: the rules cover order dates from 2022-01-01 to the horizon 2030-12-31; a date outside that range is rejected, naming the field `date`, rather than decided against rules that did not (or may no longer) exist"
case(f,'order-dated-2018-before-rules-rejected', order('s16','2018-06-01','nvidia-l2','CN',consignee=party("Sugon Information Industry Co., Ltd.","CN")), {"error":{"field":"date","message_contains":["2018-06-01","2022-01-01","2030-12-31"]}}, note=DATES+".")
case(f,'order-dated-after-horizon-rejected', order('s17','2031-01-01','nvidia-l2','CN',consignee=party("Huawei Technologies Co., Ltd.","CN")), {"error":{"field":"date","message_contains":["2031-01-01","2030-12-31"]}}, note=DATES+".")
for f,cases in files.items():
    path=os.path.join(DEST,f+'.json')
    json.dump({"cases":cases}, open(path,'w'), indent=1, ensure_ascii=False)
    open(path,'a').write('\n')
print('screening', len(files['screening']))

# --- red flags, the foundry rule and red flag 28
files.clear()
f='red-flags'
def dd(**kw): return kw
def rf(oid, date, chip, dest, qty, ddil, **kw):
    o=order(oid,date,chip,dest,qty=qty,end_use=kw.pop('end_use',INF),**kw)
    o['due_diligence']=ddil
    return o
CLEAN=dict(customer_since="2015-01-01",prior_orders=20,online_presence="established",business_history_years=10,business_need_shown=True,delivery_address_type="data_centre",data_centre_capacity_shown=True,delivery_address_consistent=True,intermediary="none",normal_distribution=True)
def clean(**kw):
    d=dict(CLEAN); d.update(kw); return d
case(f,'clean-due-diligence-no-flags', rf('r1','2025-06-01','nvidia-h100-sxm','DE',8,clean()), {"outcome":"no_license_required","not_rules":["redflag.new-customer-after-oct-2022"]})
case(f,'customer-since-after-oct-2022', rf('r2','2025-06-01','nvidia-h100-sxm','DE',8,clean(customer_since="2023-02-01")), {"outcome":"no_license_required","rules":["redflag.new-customer-after-oct-2022"]})
case(f,'customer-since-before-oct-2022', rf('r3','2025-06-01','nvidia-h100-sxm','DE',8,clean(customer_since="2022-10-06")), {"outcome":"no_license_required","not_rules":["redflag.new-customer-after-oct-2022"]})
case(f,'guidance-not-yet-issued', rf('r4','2025-05-12','nvidia-h100-sxm','DE',8,clean(customer_since="2023-02-01")), {"outcome":"no_license_required","not_rules":["redflag.new-customer-after-oct-2022"]})
case(f,'residential-commercial-quantity-holds', rf('r5','2025-06-01','nvidia-rtx-4090d','DE',8,clean(delivery_address_type="residential")), {"outcome":"hold_for_review","rules":["redflag.residential-commercial-quantity"]})
case(f,'residential-single-card-no-flag', rf('r6','2025-06-01','nvidia-rtx-4090d','DE',7,clean(delivery_address_type="residential")), {"outcome":"no_license_required","not_rules":["redflag.residential-commercial-quantity"]})
case(f,'minimal-presence-medium', rf('r7','2025-06-01','nvidia-h100-sxm','DE',8,clean(online_presence="minimal")), {"outcome":"no_license_required","rules":["redflag.minimal-presence"]})
case(f,'short-history-medium', rf('r8','2025-06-01','nvidia-h100-sxm','DE',8,clean(business_history_years=0.5)), {"outcome":"no_license_required","rules":["redflag.short-business-history"]})
case(f,'first-time-large-volume-holds', rf('r9','2025-06-01','nvidia-h100-sxm','DE',100,clean(prior_orders=0)), {"outcome":"hold_for_review","rules":["redflag.first-time-large-volume"]})
case(f,'first-time-below-large-volume', rf('r10','2025-06-01','nvidia-h100-sxm','DE',99,clean(prior_orders=0)), {"outcome":"no_license_required","not_rules":["redflag.first-time-large-volume"]})
case(f,'repeat-buyer-large-volume', rf('r11','2025-06-01','nvidia-h100-sxm','DE',100,clean(prior_orders=1)), {"outcome":"no_license_required","not_rules":["redflag.first-time-large-volume"]})
case(f,'no-business-need-holds', rf('r12','2025-06-01','nvidia-h100-sxm','DE',8,clean(business_need_shown=False)), {"outcome":"hold_for_review","rules":["redflag.no-business-need"]})
case(f,'vague-address-holds', rf('r13','2025-06-01','nvidia-h100-sxm','DE',8,clean(delivery_address_consistent=False)), {"outcome":"hold_for_review","rules":["redflag.vague-delivery-address"]})
case(f,'data-centre-without-capacity-holds', rf('r14','2025-06-01','nvidia-h100-sxm','DE',8,clean(data_centre_capacity_shown=False)), {"outcome":"hold_for_review","rules":["redflag.data-centre-capacity"]})
case(f,'forwarder-outside-distribution-holds', rf('r15','2025-06-01','nvidia-h100-sxm','DE',8,clean(intermediary="freight_forwarder",normal_distribution=False)), {"outcome":"hold_for_review","rules":["redflag.intermediary-outside-distribution"]})
case(f,'forwarder-inside-distribution', rf('r16','2025-06-01','nvidia-h100-sxm','DE',8,clean(intermediary="freight_forwarder",normal_distribution=True)), {"outcome":"no_license_required","not_rules":["redflag.intermediary-outside-distribution"]})
case(f,'transshipment-hub-low-unconfirmed', rf('r17','2025-06-01','nvidia-h100-sxm','SG',8,clean()), {"outcome":"no_license_required","rules":["redflag.transshipment-hub"],"unconfirmed":True})
case(f,'missing-facts-never-clear-the-flag', rf('r18','2025-06-01','nvidia-h100-sxm','DE',100,{}), {"outcome":"no_license_required","not_rules":["redflag.first-time-large-volume"]})
# red flag 28
RF28="Red flag 28 (Supp. No. 3 to part 732) was added by the AI Diffusion rule, 90 FR 4544: effective 13 January 2025, compliance from 15 May 2025; on 13 May 2025 BIS announced it would not enforce the rule (BIS press release, regulations.md section 6 [S]), and the red flag's premise, the 4E091 licence requirement, is part of that rule. It binds only when the rule is forced (--regime ai-diffusion-2025), from the compliance date. Issue 13 item 2"
case(f,'rf28-iaas-training-above-1e26-rule-not-enforced', rf('r19','2025-06-01','nvidia-h100-sxm','IN',8,clean(training_operations=2e26),end_use=["iaas","ai_training"]), {"outcome":"no_license_required","not_rules":["redflag.28-iaas-training"]}, note=RF28+". Was `rf28-iaas-training-above-1e26-non-tier1-holds` (hold): the red flag no longer holds orders while the rule is not enforced.")
case(f,'rf28-before-non-enforcement-pending-compliance', rf('r19b','2025-05-12','nvidia-h100-sxm','IN',8,clean(training_operations=2e26),end_use=["iaas","ai_training"]), {"outcome":"no_license_required","not_rules":["redflag.28-iaas-training"]}, note=RF28+". On 12 May 2025 the rule was in effect but its compliance date (15 May) had not come.")
case(f,'rf28-forced-diffusion-rule-holds', rf('r19c','2025-06-01','nvidia-h100-sxm','IN',8,clean(training_operations=2e26),end_use=["iaas","ai_training"]), {"rules":["redflag.28-iaas-training","ai-diffusion-2025.worldwide"]}, regimes=["ai-diffusion-2025"], note=RF28+". Forced: the rule and its red flag bind from 15 May 2025.")
case(f,'rf28-forced-before-compliance-date', rf('r19d','2025-05-14','nvidia-h100-sxm','IN',8,clean(training_operations=2e26),end_use=["iaas","ai_training"]), {"not_rules":["redflag.28-iaas-training","ai-diffusion-2025.worldwide"]}, regimes=["ai-diffusion-2025"], note=RF28+". Forced, but before the compliance date.")
case(f,'rf28-forced-tier1-headquarters', rf('r21b','2025-06-01','nvidia-h100-sxm','DE',8,clean(training_operations=2e26),end_use=["iaas","ai_training"]), {"not_rules":["redflag.28-iaas-training"]}, regimes=["ai-diffusion-2025"], note=RF28+". Forced; the customer is headquartered in Germany, a Supp. No. 5(a) destination.")
case(f,'rf28-below-1e26', rf('r20','2025-06-01','nvidia-h100-sxm','IN',8,clean(training_operations=9e25),end_use=["iaas","ai_training"]), {"outcome":"no_license_required","not_rules":["redflag.28-iaas-training"]})
case(f,'rf28-tier1-headquarters', rf('r21','2025-06-01','nvidia-h100-sxm','DE',8,clean(training_operations=2e26),end_use=["iaas","ai_training"]), {"outcome":"no_license_required","not_rules":["redflag.28-iaas-training"]})
# the foundry rule
FAB={"name":"Hsinchu Foundry Co.","country":"TW","role":"foundry"}
def packaged(o, by, country=None):
    o['packaging']={"by": by}
    if country: o['packaging']['country']=country
    return o
NOTE1="Note 1 to 3A090.a (eCFR, 90 FR 5298): a count below the threshold rebuts the presumption only on the attestation of the front-end fabricator that packaged the die outside Macau and D:5 (1.b) or of an approved OSAT company, Supp. No. 7 to part 740 (1.c); issue 13 item 5"
def fab_spec(transistors, hbm=True, approved=False):
    s={"name":"customer logic die","kind":"ic","datacenter":False,"dense_tops":{"fp16":50},"die_area_mm2":600,"process_nm":5,"transistors_billion":transistors,"has_hbm":hbm,"designer_country":"US"}
    if approved: s["approved_designer"]=True
    return s
case(f,'foundry-presumption-at-30-billion', order('fd1','2025-06-01',None,'DE',spec=fab_spec(30),exporter=FAB,end_use=INF), {"outcome":"license_required","rules":["foundry-2025.presumption"]})
case(f,'foundry-below-30-billion', packaged(order('fd2','2025-06-01',None,'DE',spec=fab_spec(29.9),exporter=FAB,end_use=INF),'front_end_fabricator','TW'), {"outcome":"no_license_required","not_rules":["foundry-2025.presumption"],"rules":["foundry.packaging"]}, note=NOTE1+". The order now says the die was packaged by the front-end fabricator in Taiwan (outside Macau and D:5); the outcome is unchanged.")
case(f,'foundry-approved-designer-rebuts', order('fd3','2025-06-01',None,'DE',spec=fab_spec(60,approved=True),exporter=FAB,end_use=INF), {"outcome":"no_license_required","not_rules":["foundry-2025.presumption"]})
case(f,'foundry-2027-without-hbm-35-billion', packaged(order('fd4','2027-03-01',None,'DE',spec=fab_spec(34,hbm=False),exporter=FAB,end_use=INF,consignee=party('Customer DE','DE',ownership_checked=True)),'approved_osat'), {"outcome":"no_license_required"}, note=NOTE1+". 34 billion < 35 billion for a package without HBM 'completed in 2027'; the order now says an approved OSAT packaged it; the outcome is unchanged.")
case(f,'foundry-2027-with-hbm-30-billion', order('fd5','2027-03-01',None,'DE',spec=fab_spec(34,hbm=True),exporter=FAB,end_use=INF,consignee=party('Customer DE','DE',ownership_checked=True)), {"outcome":"license_required","rules":["foundry-2025.presumption"]})
case(f,'distributor-not-bound-by-foundry-rule', order('fd6','2025-06-01',None,'DE',spec=fab_spec(60),exporter={"name":"Chip Distributor GmbH","country":"DE","role":"distributor"},end_use=INF), {"outcome":"no_license_required","not_rules":["foundry-2025.presumption"]})
case(f,'foundry-before-rule', order('fd7','2025-01-10',None,'DE',spec=fab_spec(60),exporter=FAB,end_use=INF), {"outcome":"no_license_required","not_rules":["foundry-2025.presumption"]})
FD6="90 FR 5298 (DATES): effective 16 January 2025, but 'not required to comply with the new requirements of this rule until January 31, 2025'; the presumption (Note 1 to 3A090.a) is new text. Issue 13 item 6"
case(f,'foundry-2025-01-30-before-compliance', order('fd8','2025-01-30',None,'DE',spec=fab_spec(60),exporter=FAB,end_use=INF), {"outcome":"no_license_required","not_rules":["foundry-2025.presumption"]}, note=FD6+".")
case(f,'foundry-2025-01-31-compliance', order('fd9','2025-01-31',None,'DE',spec=fab_spec(60),exporter=FAB,end_use=INF), {"outcome":"license_required","rules":["foundry-2025.presumption"]}, note=FD6+"; from the compliance date a 60-billion-transistor 5 nm die from a foundry, designer not approved, is presumed 3A090.a.")
case(f,'foundry-below-30-billion-packaging-unknown-holds', order('fd10','2025-06-01',None,'DE',spec=fab_spec(29.9),exporter=FAB,end_use=INF), {"outcome":"hold_for_review","rules":["foundry-2025.presumption","foundry.packaging"]}, note=NOTE1+". Without the packaging facts whether the count rebuts the presumption is unknown: held (fail closed).")
case(f,'foundry-below-30-billion-packaged-in-china', packaged(order('fd11','2025-06-01',None,'DE',spec=fab_spec(29.9),exporter=FAB,end_use=INF),'front_end_fabricator','CN'), {"outcome":"license_required","rules":["foundry-2025.presumption","foundry.packaging"]}, note=NOTE1+". Packaged by the front-end fabricator in China (D:5): the count cannot rebut.")
case(f,'foundry-below-30-billion-other-osat', packaged(order('fd12','2025-06-01',None,'DE',spec=fab_spec(29.9),exporter=FAB,end_use=INF),'other'), {"outcome":"license_required","rules":["foundry-2025.presumption","foundry.packaging"]}, note=NOTE1+". Packaged by an OSAT not on Supp. No. 7: the count cannot rebut.")
case(f,'foundry-below-30-billion-fabricator-location-unknown-holds', packaged(order('fd13','2025-06-01',None,'DE',spec=fab_spec(29.9),exporter=FAB,end_use=INF),'front_end_fabricator'), {"outcome":"hold_for_review","rules":["foundry-2025.presumption","foundry.packaging"]}, note=NOTE1+". Packaged by the front-end fabricator, but where is not said: held.")
case(f,'foundry-2028-without-hbm-only-30-billion', packaged(order('fd14','2028-03-01',None,'DE',spec=fab_spec(34,hbm=False),exporter=FAB,end_use=INF,consignee=party('Customer DE','DE',ownership_checked=True)),'approved_osat'), {"outcome":"license_required","rules":["foundry-2025.presumption"]}, note=NOTE1+". The text gives 35 billion for exports 'completed in 2027' and 40 billion 'in 2029 or thereafter' and no figure for 2028: in 2028 only the 30 billion threshold applies, and 34 billion is above it.")
case(f,'foundry-2029-without-hbm-40-billion', packaged(order('fd15','2029-03-01',None,'DE',spec=fab_spec(39,hbm=False),exporter=FAB,end_use=INF,consignee=party('Customer DE','DE',ownership_checked=True)),'approved_osat'), {"outcome":"no_license_required","not_rules":["foundry-2025.presumption"]}, note=NOTE1+". 39 billion < 40 billion for a package without HBM 'completed in 2029 or thereafter', attested by an approved OSAT.")
case(f,'foundry-transistor-count-unknown-presumed', order('fd16','2025-06-01',None,'DE',spec={k:v for k,v in fab_spec(30).items() if k!='transistors_billion'},exporter=FAB,end_use=INF), {"outcome":"license_required","rules":["foundry-2025.presumption"]}, note="Note 1.d to 3A090.a (90 FR 5298): where the aggregated approximated transistor count cannot be confirmed by the front-end fabricator or an approved OSAT, the IC is presumed 3A090.a; issue 13 item 5.")
for f,cases in files.items():
    path=os.path.join(DEST,f+'.json')
    json.dump({"cases":cases}, open(path,'w'), indent=1, ensure_ascii=False)
    open(path,'a').write('\n')
print('red flags', len(files['red-flags']))

# --- know your customer: party records and the due-diligence policy (issue 16)
files.clear()
f='due-diligence'
DDP="data/due-diligence-policy.json (issue 16): from 13 May 2025 a high-severity diversion red flag left unknown holds a 3A090.a/4A090.a order outside Country Groups A:5/A:6 and any 3A090/4A090 order to a transshipment hub ('due diligence incomplete', listing the facts to collect); elsewhere unknown flags are reported only (due_diligence.missing)"
ALICE="Alice (compliance)"
def fact(v, on="2026-01-10", by=ALICE): return {"value": v, "established": on, "by": by}
def kyc_party(pid, name, country, review_by="2026-07-10", on="2026-01-10", **over):
    facts={k: fact(v, on) for k,v in KNOWN_CUSTOMER.items()}
    facts["end_use_statement"]=fact(True, on)
    for k,v in over.items(): facts[k]=fact(v, on)
    return {"id": pid, "name": name, "kinds": ["customer","consignee"], "country": country, "headquarters": country, "parent_headquarters": country, "role": "distributor", "ownership_checked": True, "facts": facts, "review_by": review_by}
def by_id(pid): return {"party_id": pid}
def h100(oid, date, dest, consignee, **kw):
    o=order(oid,date,'nvidia-h100-sxm',dest,consignee=consignee,exporter=US_EXP,**kw)
    return o
FACTS_TO_COLLECT=["business_need_shown","delivery_address_consistent","delivery_address_type","intermediary","normal_distribution"]
P1=kyc_party("kyc-kl-1","KL Distribution Sdn Bhd","MY")
case(f,'h100-malaysia-distributor-without-record-holds', h100('k1','2026-03-02','MY',party("Penang Compute Sdn Bhd","MY")), {"outcome":"hold_for_review","rules":["dd-policy.advanced-outside-a5-a6"],"due_diligence_policy":"hold","missing_facts":FACTS_TO_COLLECT}, note=DDP+". No party record and no facts on the line: the high-severity flags (no business need, vague address, data-centre capacity, intermediary) cannot be checked.")
case(f,'h100-malaysia-distributor-current-record-clean', h100('k2','2026-03-02','MY',by_id("kyc-kl-1")), {"outcome":"no_license_required","not_rules":["dd-policy.advanced-outside-a5-a6"],"parties":[["kyc-kl-1","consignee","party_id",True]],"sources":{"business_need_shown":"party:kyc-kl-1","customer_since":"party:kyc-kl-1"},"missing_facts":[],"due_diligence_policy":"report"}, note=DDP+". The consignee's current party record (review by 2026-07-10) supplies every fact and none raises a flag.", parties=[P1])
case(f,'h100-malaysia-distributor-record-by-name', h100('k3','2026-03-02','MY',{"name":"kl   DISTRIBUTION sdn bhd","country":"MY"}), {"outcome":"no_license_required","parties":[["kyc-kl-1","consignee","name",True]],"sources":{"delivery_address_type":"party:kyc-kl-1"}}, note=DDP+". Named by name only: the name and country match the record exactly, case and spacing aside.")
case(f,'h100-malaysia-distributor-record-past-review-holds', h100('k4','2026-08-03','MY',by_id("kyc-kl-1")), {"outcome":"hold_for_review","rules":["dd-policy.advanced-outside-a5-a6"],"parties":[["kyc-kl-1","consignee","party_id",False]],"missing_facts":FACTS_TO_COLLECT}, note=DDP+". On 3 August 2026 the record is past its review date (10 July 2026): its facts count as unknown.")
o=h100('k5','2026-03-02','MY',by_id("kyc-kl-1")); o['due_diligence']={"business_need_shown": False}
case(f,'order-line-fact-overrides-record', o, {"outcome":"hold_for_review","rules":["redflag.no-business-need"],"not_rules":["dd-policy.advanced-outside-a5-a6"],"sources":{"business_need_shown":"order","delivery_address_type":"party:kyc-kl-1"}}, note=DDP+". The order line's business_need_shown (false) overrides the record's for this order: the flag is raised, not unknown.")
P2=kyc_party("kyc-jb-2","Johor Render Sdn Bhd","MY",on="2026-04-01")
case(f,'record-facts-established-after-the-order-date-unknown', h100('k6','2026-03-02','MY',by_id("kyc-jb-2")), {"outcome":"hold_for_review","rules":["dd-policy.advanced-outside-a5-a6"],"missing_facts":FACTS_TO_COLLECT}, note=DDP+". The record's facts were established on 1 April 2026, after the order (2 March 2026): not known on the order's date.", parties=[P2])
P3=kyc_party("kyc-sg-3","Lion City AI Pte Ltd","SG")
P3["kinds"]=["end_user"]
case(f,'end-user-record-supplies-facts', h100('k7','2026-03-02','SG',party("Straits Logistics Pte Ltd","SG",role="distributor"),end_user=by_id("kyc-sg-3")), {"outcome":"no_license_required","parties":[["kyc-sg-3","end_user","party_id",True]],"sources":{"business_need_shown":"party:kyc-sg-3"}}, note=DDP+". The consignee has no record; the end user's record supplies the facts.", parties=[P3])
case(f,'l40-singapore-hub-holds', order('k8','2026-03-02','nvidia-l40','SG',consignee=party("Marina Render Pte Ltd","SG")), {"outcome":"hold_for_review","rules":["dd-policy.transshipment-hub"],"not_rules":["dd-policy.advanced-outside-a5-a6"],"due_diligence_policy":"hold","missing_facts":["business_need_shown","delivery_address_consistent"]}, note=DDP+". A 3A090.b item to Singapore, a transshipment hub [U].")
case(f,'l40-germany-reports-only', order('k9','2026-03-02','nvidia-l40','DE',consignee=party("Berlin Render GmbH","DE")), {"outcome":"no_license_required","not_rules":["dd-policy.advanced-outside-a5-a6","dd-policy.transshipment-hub"],"due_diligence_policy":"report","missing_facts":["business_need_shown"]}, note=DDP+". Neither branch reaches a 3A090.b item to Germany: the unknown flags are reported, the order not held.")
case(f,'h100-germany-a5-reports-only', h100('k10','2026-03-02','DE',party("Munich Compute GmbH","DE")), {"outcome":"no_license_required","due_diligence_policy":"report","missing_facts":["business_need_shown"]}, note=DDP+". Germany is in A:5: report only.")
case(f,'h100-malaysia-before-guidance-no-flags', h100('k11','2025-05-12','MY',party("Penang Compute Sdn Bhd","MY")), {"outcome":"no_license_required","not_rules":["dd-policy.advanced-outside-a5-a6"]}, note=DDP+". Before 13 May 2025 there are no diversion red flags to leave unknown.")
case(f,'unknown-party-id-rejected', h100('k12','2026-03-02','MY',by_id("kyc-none")), {"error":{"field":"consignee.party_id","message_contains":["kyc-none"]}}, note="An order naming a party record that does not exist is rejected, naming the field (fail closed).")
for f,cases in files.items():
    path=os.path.join(DEST,f+'.json')
    json.dump({"cases":cases}, open(path,'w'), indent=1, ensure_ascii=False)
    open(path,'a').write('\n')
print('due diligence', len(files['due-diligence']))

# --- the ledger: licences on the ledger and LPP counted against what was shipped
files.clear()
f='ledger'
def licence(number, consignee, units):
    return {"number": number, "holder": "Acme Systems", "items": ["nvidia-h100-sxm"], "destinations": ["AE"], "consignees": [consignee], "units": units, "valid_from": "2025-01-01", "valid_to": "2027-12-31"}
H100='nvidia-h100-sxm'
case(f,'licence-covers-consignee-written-otherwise', order('k1','2025-06-01',H100,'AE',qty=2,consignee=party("FALCON   compute llc","AE")), {"outcome":"licensed","licence":"LC-1","rules":["licence"]}, note="A licence on the ledger covers an H100 order to the UAE (15 CFR 742.6(a)(6)(iii) requires one; 15 CFR 750.7 licences): the consignee is written in other case and spacing, which is the same consignee (exportgate_pipeline::identity).", ledger={"licences":[licence("LC-1","Falcon Compute LLC",10)]})
case(f,'licence-too-small-for-the-order', order('k2','2025-06-01',H100,'AE',qty=5,consignee=party("Oasis Data Centre LLC","AE")), {"outcome":"license_required","rules":["licence"]}, note="The licence covers the consignee and item but only 1 unit: the order stays license_required with the licence's numbers (15 CFR 750.7).", ledger={"licences":[licence("LC-2","Oasis Data Centre LLC",1)]})
case(f,'licence-for-another-consignee', order('k3','2025-06-01',H100,'AE',qty=1,consignee=party("Desert Cloud LLC Dubai","AE")), {"outcome":"license_required"}, note="A licence for another consignee does not cover the order (15 CFR 750.7: a licence authorises the parties it names).", ledger={"licences":[licence("LC-3","Desert Cloud LLC",10)]})
AID=["ai-diffusion-2025"]
case(f,'lpp-used-on-ledger-near-the-cap', order('k4','2025-07-01',H100,'IN',qty=100,consignee=party("BHARAT ai  pvt ltd","IN")), {"outcome":"license_required","rules":["LE-LPP.quota"]}, regimes=AID, note="AI Diffusion (90 FR 4544, 15 CFR 740.29 LPP): 26,900,000 TPP per consignee per calendar year. 1,650 H100s (26,121,480 TPP) were shipped under LPP and recorded on the ledger; 100 more (1,583,120 TPP) would pass the cap, so LPP is refused, whatever the spelling of the consignee.", ledger={"shipped":[order('k4-shipped','2025-06-01',H100,'IN',qty=1650,consignee=party("Bharat AI Pvt Ltd","IN"))]})
case(f,'lpp-used-on-ledger-under-the-cap', order('k5','2025-07-01',H100,'IN',qty=100,consignee=party("Mumbai Compute Pvt Ltd","IN")), {"outcome":"license_exception","exception":"LPP"}, regimes=AID, note="AI Diffusion LPP (15 CFR 740.29): 1,000 H100s (15,831,200 TPP) on the ledger plus 100 (1,583,120) stays within 26,900,000 TPP: LPP.", ledger={"shipped":[order('k5-shipped','2025-06-01',H100,'IN',qty=1000,consignee=party("Mumbai Compute Pvt Ltd","IN"))]})
case(f,'lpp-in-run-tally-across-spellings', order('k6b','2025-06-02',H100,'IN',qty=1000,consignee=party("chennai ai labs  PVT LTD","IN")), {"outcome":"license_required","rules":["LE-LPP.quota"]}, regimes=AID, before=[order('k6a','2025-06-01',H100,'IN',qty=1000,consignee=party("Chennai AI Labs Pvt Ltd","IN"))], note="AI Diffusion LPP (15 CFR 740.29): two orders in one book to one consignee written two ways count against one cap: 1,000 H100s then 1,000 more (31,662,400 TPP in all) pass 26,900,000.")
# --- Data Center VEUs under AI Diffusion (issue 21 item 3; 15 CFR 748.15, Supp. No. 10 to
# part 748, regulations.md 4.4): an order naming a VEU (`veu`) is drawn on the VEU's compute by
# `ship`; `check` (these cases) names the VEU and its headroom and keeps the outcome.
VEU_CASES={'veu-uveu-headroom-named-by-check', 'veu-uveu-7-percent-after-a-shipment', 'veu-without-ai-diffusion-no-draw', 'veu-tier3-never-eligible'}
KNOWN_CASES|=VEU_CASES
NO_TRAINING|=VEU_CASES
def uveu(vid, de_tpp):
    return {"veu": {"id": vid, "kind": "universal", "holder": {"name": "Cloud "+vid, "headquarters": "IE"}}, "compute": {"DE": de_tpp}}
def veu_order(oid, dest, vid, qty=2000):
    o=order(oid,'2025-08-01',H100,dest,qty=qty,consignee=party("Cloud "+vid+" "+dest,dest,"IE"))
    o["veu"]=vid
    return o
case(f,'veu-uveu-headroom-named-by-check', veu_order('v1','IN','corpus-uveu-1'), {"outcome":"license_required","rules":["ai-diffusion-2025.worldwide","veu"]}, regimes=AID, note="AI Diffusion (90 FR 4544): 2,000 H100s (31,662,400 TPP) to India need a licence (past LPP's 26,900,000). The order names a universal VEU holding 1,000,000,000 TPP in Germany: a UVEU may hold at most 7% of its total compute in one Tier 2 country (Supp. No. 10 to part 748 [S]), so it could absorb 75,268,817 TPP there; `check` names the VEU and that headroom and keeps the outcome (only `ship` draws).", ledger={"veus":[uveu('corpus-uveu-1',1000000000)]})
case(f,'veu-uveu-7-percent-after-a-shipment', veu_order('v2','IN','corpus-uveu-2'), {"outcome":"license_required","rules":["veu"]}, regimes=AID, note="The VEU holds 500,000,000 TPP in Germany and `ship` drew 31,662,400 TPP in India under it: another 31,662,400 would make 63,324,800 of 563,324,800 (11.2%), past the 7% per Tier 2 country, so `check` says it could not absorb the order, with the numbers.", ledger={"veus":[uveu('corpus-uveu-2',500000000)], "shipped":[veu_order('v2-shipped','IN','corpus-uveu-2')]})
case(f,'veu-without-ai-diffusion-no-draw', veu_order('v3','AE','corpus-uveu-1',qty=8), {"outcome":"license_required","rules":["veu"]}, note="Without AI Diffusion (not enforced; BIS, 13 May 2025) the licence an H100 order to the UAE needs comes from another rule, which a VEU does not lift: the order says no VEU draw is made, and why.")
case(f,'veu-tier3-never-eligible', veu_order('v4','CN','corpus-uveu-1',qty=8), {"outcome":"license_required","rules":["veu"]}, regimes=AID, note="China is Tier 3 under AI Diffusion (Country Group D:5): never VEU-eligible; the order stays license_required and says so.")
for f,cases in files.items():
    path=os.path.join(DEST,f+'.json')
    json.dump({"cases":cases}, open(path,'w'), indent=1, ensure_ascii=False)
    open(path,'a').write('\n')
print('ledger', len(files['ledger']))
