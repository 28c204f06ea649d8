//! The binary as an operator runs it: start-up failures and graceful shutdown.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_soleus-api");

fn run_with(vars: &[(&str, &str)]) -> std::process::Output {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(BIN);
    cmd.current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("SOLEUS_PORT", "0");
    for (k, v) in vars {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_the_variable() {
    for (key, value) in [
        ("SOLEUS_PORT", "eighty"),
        ("SOLEUS_JWT_PRIVATE_KEY_FILE", "/nonexistent/key.pem"),
        ("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none"),
    ] {
        let out = run_with(&[(key, value)]);
        assert!(!out.status.success(), "{key}={value} must fail");
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("soleus-api: ") && last.contains(key),
            "{key}: {stderr}"
        );
    }
}

fn healthcheck(port: u16) -> bool {
    Command::new(BIN)
        .arg("healthcheck")
        .env("SOLEUS_PORT", port.to_string())
        .stderr(Stdio::null())
        .status()
        .unwrap()
        .success()
}

#[test]
fn healthcheck_then_sigterm_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    assert!(!healthcheck(port), "nothing listens yet");
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("SOLEUS_PORT", port.to_string())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while !healthcheck(port) {
        assert!(Instant::now() < deadline, "server did not become healthy");
        std::thread::sleep(Duration::from_millis(100));
    }
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "server did not stop after SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status}");
    assert!(!healthcheck(port), "the port is closed after shutdown");
}
