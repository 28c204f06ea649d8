//! The binary as an operator runs it: start-up failures and graceful shutdown.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

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

#[test]
fn sigterm_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(BIN)
        .current_dir(dir.path())
        .env_remove("DATABASE_URL")
        .env("SOLEUS_PORT", "0")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the database file: the server is past start-up.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !dir.path().join("data/jwt-ed25519.pem").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
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
}
