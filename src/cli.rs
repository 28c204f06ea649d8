//! Command-line subcommands of the binary (besides `serve`, the default).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::process::ExitCode;
use std::time::Duration;

use crate::auth::partner::new_secret;
use crate::auth::tokens::Scope;
use crate::config::Settings;
use crate::db;
use crate::repository::partners::{self, PartnerRow};

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

/// `soleus-api partners create --name NAME --scopes a,b [--redirect-uris URI,URI]` | `partners list` |
/// `partners redirect-uris ID URI,URI` | `partners revoke ID`.
/// Prints to stdout; the client secret is shown once and stored only as a hash.
pub fn partners(settings: &Settings, args: &[String]) -> ExitCode {
    match run_partners(settings, args) {
        Ok(output) => {
            #[allow(clippy::print_stdout)]
            {
                println!("{output}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
}

/// A comma-separated list of redirect URIs, checked (https, or http on loopback), stored one
/// per line.
fn redirect_uris(list: &str) -> anyhow::Result<String> {
    let uris: Vec<&str> = list.split(',').map(str::trim).filter(|u| !u.is_empty()).collect();
    for uri in &uris {
        crate::services::oauth::check_redirect_uri(uri)
            .map_err(|why| anyhow::anyhow!("--redirect-uris: {why}"))?;
    }
    Ok(uris.join("\n"))
}

fn run_partners(settings: &Settings, args: &[String]) -> anyhow::Result<String> {
    let pool = db::connect(&settings.database_url, 1)?;
    let mut conn = pool.get()?;
    let now = crate::db::now();
    match args.first().map(String::as_str) {
        Some("create") => {
            let name = flag(args, "--name")
                .filter(|n| !n.trim().is_empty())
                .ok_or_else(|| anyhow::anyhow!("partners create needs --name NAME"))?;
            let scopes = flag(args, "--scopes").ok_or_else(|| {
                anyhow::anyhow!(
                    "partners create needs --scopes a,b (any of: {})",
                    Scope::join(&Scope::ALL)
                )
            })?;
            let scopes = Scope::parse_list(scopes).map_err(|unknown| {
                anyhow::anyhow!("unknown scope `{unknown}` (any of: {})", Scope::join(&Scope::ALL))
            })?;
            anyhow::ensure!(!scopes.is_empty(), "partners create needs at least one scope");
            let redirect_uris = redirect_uris(flag(args, "--redirect-uris").unwrap_or(""))?;
            let (secret, hash) = new_secret();
            let row = PartnerRow {
                id: uuid::Uuid::new_v4().simple().to_string(),
                name: name.trim().to_owned(),
                secret_hash: hash,
                scopes: Scope::join(&scopes),
                created_at: now,
                revoked_at: None,
                redirect_uris,
            };
            partners::insert(&mut conn, &row)?;
            Ok(format!(
                "client_id: {}\nclient_secret: {secret}\nscopes: {}\nredirect_uris: {}\nStore the secret now: it is not shown again.",
                row.id,
                row.scopes,
                row.redirect_uris().collect::<Vec<_>>().join(" ")
            ))
        }
        Some("list") => {
            let rows = partners::list(&mut conn)?;
            Ok(rows
                .iter()
                .map(|p| {
                    let state = if p.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    };
                    format!("{}\t{}\t{}\t{}", p.id, state, p.scopes, p.name)
                })
                .collect::<Vec<_>>()
                .join("\n"))
        }
        Some("redirect-uris") => {
            let id = args
                .get(1)
                .ok_or_else(|| anyhow::anyhow!("partners redirect-uris needs a client id"))?;
            let uris = redirect_uris(args.get(2).map_or("", String::as_str))?;
            anyhow::ensure!(
                partners::set_redirect_uris(&mut conn, id, &uris)?,
                "no active partner has the client id `{id}`"
            );
            Ok(format!("redirect_uris of {id}: {}", uris.replace('\n', " ")))
        }
        Some("revoke") => {
            let id = args
                .get(1)
                .ok_or_else(|| anyhow::anyhow!("partners revoke needs a client id"))?;
            anyhow::ensure!(
                partners::revoke(&mut conn, id, now)?,
                "no active partner has the client id `{id}`"
            );
            Ok(format!("revoked {id}"))
        }
        _ => Err(anyhow::anyhow!(
            "usage: soleus-api partners create --name NAME --scopes a,b [--redirect-uris URI,URI] | list | \
             redirect-uris CLIENT_ID URI,URI | revoke CLIENT_ID"
        )),
    }
}
