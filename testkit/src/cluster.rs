//! Private PostgreSQL clusters (scripts/pg.sh) and `geokho serve` processes
//! for tests that need their own: faults (stopping the database), scale-out
//! (a primary and a streaming standby). Loopback only; everything is
//! stopped on drop.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::repo_root;

/// A free loopback TCP port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A throwaway cluster, stopped (and its folder removed) on drop.
pub struct Cluster {
    pub dir: PathBuf,
    pub port: u16,
}

fn pg_sh(args: &[&str]) {
    let st = Command::new(repo_root().join("scripts/pg.sh"))
        .args(args)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success(), "pg.sh {args:?}");
}

impl Cluster {
    fn at(tag: &str) -> Cluster {
        let dir = repo_root()
            .join("target/test-tmp")
            .join(format!("pg-{tag}-{}", std::process::id()));
        Cluster {
            dir,
            port: free_port(),
        }
    }

    /// A new primary with an empty `geokho` database.
    pub fn start(tag: &str) -> Cluster {
        let c = Cluster::at(tag);
        pg_sh(&["start", &c.dir_s(), &c.port.to_string(), "--throwaway"]);
        c
    }

    /// A streaming standby of `primary` (pg_basebackup, then replaying).
    pub fn standby(tag: &str, primary: &Cluster) -> Cluster {
        let c = Cluster::at(tag);
        pg_sh(&[
            "standby",
            &c.dir_s(),
            &c.port.to_string(),
            &primary.port.to_string(),
        ]);
        c
    }

    pub fn dir_s(&self) -> String {
        self.dir.display().to_string()
    }

    pub fn stop(&self) {
        pg_sh(&["stop", &self.dir_s()]);
    }

    /// Starts the stopped cluster again, keeping its data.
    pub fn restart(&self) {
        pg_sh(&["start", &self.dir_s(), &self.port.to_string()]);
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/geokho", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(repo_root().join("scripts/pg.sh"))
            .args(["stop", &self.dir_s()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

/// The binary `bin` with `args`, DATABASE_URL `url`, run from the repository
/// root with warnings-only logs and stdout discarded.
pub fn command(bin: &str, url: &str, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env("DATABASE_URL", url)
        .env("GEOKHO_LOG", "warn")
        .current_dir(repo_root())
        .stdout(Stdio::null());
    cmd
}

/// `geokho import ARGS` into `url`; panics with its stderr when it fails.
pub fn import(bin: &str, url: &str, args: &[&str]) {
    let rejects = crate::temp_dir("import-rejects");
    let mut a = vec!["import", "--rejects-dir", rejects.to_str().unwrap()];
    a.extend_from_slice(args);
    let out = command(bin, url, &a)
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "import {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The HTTP status of a GET, 0 when nothing answered.
pub async fn status(url: &str) -> u16 {
    match reqwest::get(url).await {
        Ok(r) => r.status().as_u16(),
        Err(_) => 0,
    }
}

/// `geokho serve` (the binary `bin`) on a free loopback port with
/// DATABASE_URL `url` and `extra` arguments; killed on drop.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Server {
    /// Starts it and waits (up to 30 s) for /ready.
    pub async fn start(bin: &str, url: &str, extra: &[&str]) -> Server {
        let port = free_port();
        let mut args = vec!["serve", "--addr", "127.0.0.1", "--port"];
        let port_s = port.to_string();
        args.push(&port_s);
        args.extend_from_slice(extra);
        let child = command(bin, url, &args)
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let t0 = Instant::now();
        while status(&format!("{base}/ready")).await != 200 {
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "server did not get ready"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Server { child, base }
    }

    /// Whether the process is still alive (it did not crash or exit).
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// Kills the process now (SIGKILL).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}
