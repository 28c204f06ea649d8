//! Webhook rules that need no I/O: Standard Webhooks 1.0 signatures, the retry schedule, and
//! which addresses a delivery may reach.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac as _};
use sha2::Sha256;

/// Secrets are `whsec_` + base64 of the signing key (Standard Webhooks).
pub const SECRET_PREFIX: &str = "whsec_";

/// A secret for these 32 key bytes.
pub fn secret_from_key(key: &[u8; 32]) -> String {
    format!("{SECRET_PREFIX}{}", STANDARD.encode(key))
}

/// The signing key inside a `whsec_` secret.
pub fn signing_key(secret: &str) -> Option<Vec<u8>> {
    STANDARD.decode(secret.strip_prefix(SECRET_PREFIX)?).ok()
}

/// `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        // HMAC takes keys of any length; this cannot happen.
        return String::new();
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The `webhook-signature` header: one signature per secret in use, space-separated (during a
/// rotation, the new and the previous secret both sign).
pub fn signature_header(secrets: &[&str], id: &str, timestamp: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .filter_map(|s| signing_key(s))
        .map(|key| sign(&key, id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The default wait after each consecutive failure (Standard Webhooks' suggested schedule):
/// 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h. With the first attempt that is 8 attempts over
/// about 27.6 hours; after the last failure the endpoint is disabled.
pub const DEFAULT_SCHEDULE_SECS: [u64; 7] = [5, 300, 1800, 7200, 18_000, 36_000, 36_000];

/// How long to wait after the `failures`-th consecutive failure (1-based), spread by ±20 %
/// with `spread` in [0, 1); `None` when the schedule is used up (disable the endpoint).
pub fn retry_delay(schedule: &[Duration], failures: u32, spread: f64) -> Option<Duration> {
    let index = usize::try_from(failures.checked_sub(1)?).ok()?;
    let base = schedule.get(index)?;
    let factor = 0.8 + 0.4 * spread.clamp(0.0, 1.0);
    Some(base.mul_f64(factor))
}

/// Whether a delivery may connect to `ip`: a public unicast address, not loopback, private,
/// link-local (cloud metadata at 169.254.169.254), shared, documentation, benchmarking,
/// multicast or reserved space, in IPv4 or IPv6 (with IPv4 inside IPv6 checked as IPv4).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || a >= 240
        // 100.64.0.0/10, shared address space (carrier-grade NAT)
        || (a == 100 && (64..128).contains(&b))
        // 192.0.0.0/24, IETF protocol assignments
        || (a == 192 && b == 0 && c == 0)
        // 198.18.0.0/15, benchmarking
        || (a == 198 && (18..20).contains(&b)))
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    // 64:ff9b::/96, NAT64 of an IPv4 address.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let [_, _, _, _, _, _, hi, lo] = s;
        return is_public_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        // fc00::/7 unique local, fe80::/10 link-local, 2001:db8::/32 documentation
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        // ::/96 (IPv4-compatible, deprecated)
        || s[..6] == [0, 0, 0, 0, 0, 0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The test vector of the Standard Webhooks specification (also what the reference
    /// libraries test against).
    #[test]
    fn signs_the_specifications_test_vector() {
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap_or_default();
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_rotation_signs_with_both_secrets() {
        let (new, old) = (secret_from_key(&[1; 32]), secret_from_key(&[2; 32]));
        let header = signature_header(&[&new, &old], "evt_1", 10, b"{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0], sign(&[1; 32], "evt_1", 10, b"{}"));
        assert_eq!(parts[1], sign(&[2; 32], "evt_1", 10, b"{}"));
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn the_default_schedule_spans_about_a_day_then_gives_up() {
        let schedule: Vec<Duration> = DEFAULT_SCHEDULE_SECS
            .iter()
            .map(|s| Duration::from_secs(*s))
            .collect();
        let total: Duration = (1..=7).filter_map(|n| retry_delay(&schedule, n, 0.5)).sum();
        assert_eq!(total, Duration::from_secs(99_305));
        assert_eq!(retry_delay(&schedule, 8, 0.5), None);
        assert_eq!(retry_delay(&schedule, 0, 0.5), None);
        assert_eq!(retry_delay(&schedule, 1, 0.0), Some(Duration::from_secs(4)));
        assert_eq!(retry_delay(&schedule, 1, 1.0), Some(Duration::from_secs(6)));
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "192.0.0.8",
            "198.18.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "240.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "fc00::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            let parsed: IpAddr = ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
            assert!(!is_public(parsed), "{ip} must be refused");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            let parsed: IpAddr = ip.parse().unwrap_or(IpAddr::V4(Ipv4Addr::LOCALHOST));
            assert!(is_public(parsed), "{ip} is public");
        }
    }

    proptest! {
        #[test]
        fn every_10_slash_8_address_is_private(b: u8, c: u8, d: u8) {
            prop_assert!(!is_public(IpAddr::V4(Ipv4Addr::new(10, b, c, d))));
        }

        #[test]
        fn a_delay_stays_within_twenty_percent(failures in 1u32..8, spread in 0.0f64..1.0) {
            let schedule: Vec<Duration> = DEFAULT_SCHEDULE_SECS.iter().map(|s| Duration::from_secs(*s)).collect();
            let base = schedule[failures as usize - 1].as_secs_f64();
            let delay = retry_delay(&schedule, failures, spread).map(|d| d.as_secs_f64()).unwrap_or_default();
            prop_assert!(delay >= base * 0.8 - 1e-9 && delay <= base * 1.2 + 1e-9);
        }
    }
}
