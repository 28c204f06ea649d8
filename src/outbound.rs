//! Outbound HTTP: the client that delivers webhooks (awc over the system's OpenSSL).
//!
//! - Connect timeout 5 s, whole attempt 10 s (`Policy::attempt_timeout`); at most 64 KiB of
//!   the answer is read.
//! - Redirects are not followed (a 3xx is a failed attempt).
//! - The resolver keeps only public addresses, so a host that resolves (now, or after a DNS
//!   change) to loopback, private, link-local or metadata addresses is never connected to;
//!   IP-literal URLs are checked the same way before connecting.

use std::error::Error as StdError;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use actix_tls::connect::{Resolve, Resolver};
use futures_util::future::LocalBoxFuture;

use crate::domain::webhooks::is_public;
use crate::services::webhooks::{Outcome, Sender};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
pub const BODY_CAP: usize = 64 * 1024;

/// Resolves with the system resolver, then drops every non-public address.
struct PublicOnly {
    allow_private: bool,
}

impl Resolve for PublicOnly {
    fn lookup<'a>(
        &'a self,
        host: &'a str,
        port: u16,
    ) -> LocalBoxFuture<'a, Result<Vec<SocketAddr>, Box<dyn StdError>>> {
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
            let allowed: Vec<SocketAddr> = found
                .into_iter()
                .filter(|a| self.allow_private || is_public(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("{host} resolves to no public address (refused)").into());
            }
            Ok(allowed)
        })
    }
}

/// The webhook sender. Not `Send` (awc): make one per thread that delivers.
pub struct WebhookSender {
    client: awc::Client,
    allow_private: bool,
    timeout: Duration,
}

impl WebhookSender {
    /// A sender with the policy's address rule and attempt timeout (connecting takes at most
    /// 5 s of it).
    pub fn new(policy: &crate::services::webhooks::Policy) -> Self {
        let allow_private_networks = policy.allow_private_networks;
        let tcp = actix_tls::connect::Connector::new(Resolver::custom(PublicOnly {
            allow_private: allow_private_networks,
        }))
        .service();
        let connector = awc::Connector::new()
            .connector(tcp)
            .timeout(CONNECT_TIMEOUT.min(policy.attempt_timeout));
        let client = awc::Client::builder()
            .connector(connector)
            .disable_redirects()
            .timeout(policy.attempt_timeout)
            .add_default_header((
                "user-agent",
                concat!("soleus-api-webhooks/", env!("CARGO_PKG_VERSION")),
            ))
            .finish();
        Self {
            client,
            allow_private: allow_private_networks,
            timeout: policy.attempt_timeout,
        }
    }

    /// An IP-literal host the resolver would not see.
    fn refused_literal(&self, url: &str) -> bool {
        let host = url::Url::parse(url).ok().and_then(|u| match u.host() {
            Some(url::Host::Ipv4(ip)) => Some(IpAddr::V4(ip)),
            Some(url::Host::Ipv6(ip)) => Some(IpAddr::V6(ip)),
            _ => None,
        });
        !self.allow_private && host.is_some_and(|ip| !is_public(ip))
    }
}

impl Sender for WebhookSender {
    async fn post(&self, url: &str, headers: Vec<(&'static str, String)>, body: Vec<u8>) -> Outcome {
        let started = Instant::now();
        let elapsed = |started: Instant| u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
        if self.refused_literal(url) {
            return Outcome {
                status: None,
                error: Some("the URL's address is not public (refused)".into()),
                latency_ms: 0,
            };
        }
        let mut request = self.client.post(url);
        for (name, value) in headers {
            request = request.insert_header((name, value));
        }
        let limit = self.timeout;
        let no_answer = |limit: Duration| format!("no answer within {} ms", limit.as_millis());
        let sent = actix_web::rt::time::timeout(self.timeout, async move {
            let mut response = request.send_body(body).await.map_err(|e| match e {
                awc::error::SendRequestError::Timeout => no_answer(limit),
                other => other.to_string(),
            })?;
            let status = response.status().as_u16();
            // Read (and drop) at most the cap, so a slow or endless answer cannot hold us.
            let _ = response.body().limit(BODY_CAP).await;
            Ok::<u16, String>(status)
        })
        .await;
        let (status, error) = match sent {
            Ok(Ok(status)) if (300..400).contains(&status) => (
                Some(status),
                Some(format!("HTTP {status}: redirects are not followed")),
            ),
            Ok(Ok(status)) => (Some(status), None),
            Ok(Err(error)) => (None, Some(error)),
            Err(_) => (None, Some(no_answer(self.timeout))),
        };
        Outcome {
            status,
            error,
            latency_ms: elapsed(started),
        }
    }
}
