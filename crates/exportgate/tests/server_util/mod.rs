//! Starting the real `exportgate serve` binary on a free port for tests, and calling it.

// Each test binary uses a different subset of these helpers.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

/// The real CSL file in `../shared` beside the repository.
pub fn csl() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/lists/csl_2026-07-31/screening-list.json")
}

/// The base URL a starting `exportgate serve` prints as its first line ("listening on ...").
pub fn listening_on(child: &mut Child) -> String {
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    line.trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line `{line}`"))
        .to_string()
}

/// A running server, killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
    pub dir: tempfile::TempDir,
}

impl Server {
    /// Start on port 0 with a fresh database and the CSL; wait for the address it prints.
    pub fn start() -> Server {
        // The real CSL is dated 2026-07-31: keep it in force for these tests.
        Server::start_with(&["--max-list-age", "36500"])
    }

    /// [`Server::start`] with these extra arguments to `serve` (and `serve`'s own default
    /// `--max-list-age` unless they give one).
    pub fn start_with(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_exportgate"))
            .args(["serve", "--addr", "127.0.0.1:0", "--db"])
            .arg(dir.path().join("db.sqlite"))
            .arg("--lists")
            .arg(csl())
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start exportgate serve");
        let base = listening_on(&mut child);
        Server { child, base, dir }
    }

    /// Create a key with `exportgate keys create` against the server's database.
    /// Adds a licence through `POST /v1/licences` with an admin's key; it must be created.
    pub fn add_licence(&self, admin: &str, licence: &Value) {
        let (s, d) = self.call(
            "POST",
            "/v1/licences",
            Some(admin),
            Some(&licence.to_string()),
        );
        assert_eq!(s, 201, "{d}");
    }

    pub fn key(&self, role: &str, name: &str) -> String {
        let out = Command::new(env!("CARGO_BIN_EXE_exportgate"))
            .args(["keys", "create", "--role", role, "--name", name, "--db"])
            .arg(self.dir.path().join("db.sqlite"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
        assert!(key.starts_with("eg_") && key.len() == 67, "{key}");
        key
    }

    /// Call the API; returns the status and the JSON body (`Null` if not JSON).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: Option<&str>,
    ) -> (u16, Value) {
        let mut req = ureq::request(method, &format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.set("Authorization", &format!("Bearer {k}"));
        }
        let res = match body {
            Some(b) => req.set("Content-Type", "application/json").send_string(b),
            None => req.call(),
        };
        let resp = match res {
            Ok(r) => r,
            Err(ureq::Error::Status(_, r)) => r,
            Err(e) => panic!("{method} {path}: {e}"),
        };
        Self::read(resp)
    }

    /// Like [`Server::call`], but a request the server cut off (it answered before reading the
    /// whole body and closed the connection: broken pipe or reset on our side) is `Err` with
    /// the transport error, not a panic. For bodies over the limit, which the server refuses
    /// without reading them to the end.
    pub fn try_call(
        &self,
        method: &str,
        path: &str,
        key: Option<&str>,
        body: &str,
    ) -> Result<(u16, Value), String> {
        let mut req = ureq::request(method, &format!("{}{path}", self.base));
        if let Some(k) = key {
            req = req.set("Authorization", &format!("Bearer {k}"));
        }
        match req
            .set("Content-Type", "application/json")
            .send_string(body)
        {
            Ok(r) | Err(ureq::Error::Status(_, r)) => Ok(Self::read(r)),
            Err(e) => Err(e.to_string()),
        }
    }

    fn read(resp: ureq::Response) -> (u16, Value) {
        let status = resp.status();
        let mut text = String::new();
        resp.into_reader().read_to_string(&mut text).unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// GET a text endpoint.
    pub fn text(&self, path: &str) -> String {
        ureq::get(&format!("{}{path}", self.base))
            .call()
            .unwrap()
            .into_string()
            .unwrap()
    }
}

impl Server {
    /// Send SIGTERM and wait (up to 20 s) for the process to exit; its exit status.
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        for _ in 0..200 {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!("the server did not stop within 20 s of SIGTERM");
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An order of eight NVIDIA L2s (not 3A090) to `country`, consigned to `name`.
pub fn order(id: &str, name: &str, country: &str) -> Value {
    json!({"id": id, "date": "2025-06-01", "item": {"chip": "nvidia-l2"}, "quantity": 8,
        "destination": country, "exporter": {"name": "Acme Systems", "country": "US"},
        "consignee": {"name": name, "country": country, "headquarters": country,
            "parent_headquarters": country}})
}
