-- wrk script: POST one order to /v1/check with an API key (KEY from the environment).
-- The order is screened against the CSL and decided no_license_required (no case opened).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEY")
wrk.body = '{"id": "load-1", "date": "2025-06-01", "item": {"chip": "nvidia-h100-sxm"}, "quantity": 8, "destination": "IL", "exporter": {"name": "Acme Systems", "country": "US"}, "consignee": {"name": "Tel Aviv Inference Ltd", "country": "IL", "headquarters": "IL", "parent_headquarters": "IL"}}'

-- No per-response callback: wrk itself counts non-2xx/3xx responses and socket errors.
done = function(summary, latency, requests)
  io.write(string.format("p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, p99.9 %.2f ms\n",
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency:percentile(99.9) / 1000))
end
