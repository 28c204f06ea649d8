//! Command-line subcommands of the binary (besides `serve`, the default).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

use crate::config::Settings;

/// One line on stderr naming what is wrong, and a non-zero exit.
pub fn fail(e: &anyhow::Error) -> ExitCode {
    let message = format!("{e:#}");
    #[allow(clippy::print_stderr)]
    {
        eprintln!(
            "soleus-api: {}",
            message.split_whitespace().collect::<Vec<_>>().join(" ")
        );
    }
    ExitCode::FAILURE
}

/// `soleus-api healthcheck`: exit 0 when `GET /healthz` on the local server answers 200
/// (used by the container's HEALTHCHECK, which has no curl).
pub fn healthcheck(settings: &Settings) -> ExitCode {
    match probe(settings.port) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => fail(&anyhow::anyhow!("/healthz did not answer 200")),
        Err(e) => fail(&anyhow::anyhow!("healthcheck: {e}")),
    }
}

fn probe(port: u16) -> std::io::Result<bool> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    stream.write_all(b"GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
    let mut head = [0_u8; 12];
    stream.read_exact(&mut head)?;
    Ok(head.ends_with(b"200"))
}
