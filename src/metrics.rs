//! Prometheus metrics (`GET /metrics`, text exposition format), exported only when
//! `SOLEUS_METRICS_TOKEN` is set and the scraper sends it as a bearer token.
//!
//! One process-wide registry: every HTTP server in the process adds to the same counters, as
//! Prometheus expects of one target. Route labels are route templates (`/v1/sessions/{id}`),
//! never raw paths, so ids cannot blow up the number of series.

use std::sync::LazyLock;

use prometheus::{
    Encoder as _, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGaugeVec, Opts, Registry,
    TextEncoder,
};

struct Metrics {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
    rate_limited: IntCounterVec,
    throttled: IntCounterVec,
    webhook_attempts: IntCounterVec,
    pool: IntGaugeVec,
    pool_waits: IntCounter,
}

#[allow(clippy::expect_used)] // the metric definitions are constants: a failure is a bug caught by the tests
static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let registry = Registry::new_custom(Some("soleus".into()), None).expect("registry");
    let requests = IntCounterVec::new(
        Opts::new(
            "http_requests_total",
            "HTTP requests answered, by method, route template and status.",
        ),
        &["method", "route", "status"],
    )
    .expect("requests");
    let duration = HistogramVec::new(
        HistogramOpts::new(
            "http_request_duration_seconds",
            "Time from the request's arrival to its response, by method and route template.",
        )
        .buckets(vec![
            0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
        ]),
        &["method", "route"],
    )
    .expect("duration");
    let rate_limited = IntCounterVec::new(
        Opts::new(
            "rate_limit_rejections_total",
            "Requests refused with 429 by a rate-limit budget, by kind.",
        ),
        &["kind"],
    )
    .expect("rate_limited");
    let throttled = IntCounterVec::new(
        Opts::new(
            "auth_throttled_total",
            "Sign-ins and registrations refused by the login throttle or the registration limit.",
        ),
        &["what"],
    )
    .expect("throttled");
    let webhook_attempts = IntCounterVec::new(
        Opts::new(
            "webhook_attempts_total",
            "Scheduled webhook delivery attempts, by outcome.",
        ),
        &["outcome"],
    )
    .expect("webhook_attempts");
    let pool = IntGaugeVec::new(
        Opts::new(
            "db_pool_connections",
            "Database connections of this process, by pool and state.",
        ),
        &["pool", "state"],
    )
    .expect("pool");
    let pool_waits = IntCounter::new(
        "db_pool_waits_total",
        "Times a request found no idle database connection and waited for one.",
    )
    .expect("pool_waits");
    for collector in [
        Box::new(requests.clone()) as Box<dyn prometheus::core::Collector>,
        Box::new(duration.clone()),
        Box::new(rate_limited.clone()),
        Box::new(throttled.clone()),
        Box::new(webhook_attempts.clone()),
        Box::new(pool.clone()),
        Box::new(pool_waits.clone()),
    ] {
        registry.register(collector).expect("unique metric names");
    }
    Metrics {
        registry,
        requests,
        duration,
        rate_limited,
        throttled,
        webhook_attempts,
        pool,
        pool_waits,
    }
});

/// One answered request.
pub fn request(method: &str, route: &str, status: u16, seconds: f64) {
    let m = &*METRICS;
    m.requests
        .with_label_values(&[method, route, &status.to_string()])
        .inc();
    m.duration.with_label_values(&[method, route]).observe(seconds);
}

/// A request refused by the `kind` budget (`read`, `write`, `auth`, `expensive`).
pub fn rate_limited(kind: &str) {
    METRICS.rate_limited.with_label_values(&[kind]).inc();
}

/// A sign-in (`login`) or registration (`registration`) refused by its throttle.
pub fn throttled(what: &str) {
    METRICS.throttled.with_label_values(&[what]).inc();
}

/// A scheduled webhook attempt that the receiver acknowledged, or not.
pub fn webhook_attempt(succeeded: bool) {
    let outcome = if succeeded { "delivered" } else { "failed" };
    METRICS.webhook_attempts.with_label_values(&[outcome]).inc();
}

/// A request waited for a pooled connection.
pub fn pool_wait() {
    METRICS.pool_waits.inc();
}

/// The exposition text, with the pools' current state (`(pool, in use, idle)`).
pub fn render(pools: &[(&str, u32, u32)]) -> String {
    let m = &*METRICS;
    for (pool, in_use, idle) in pools {
        m.pool
            .with_label_values(&[pool, "in_use"])
            .set(i64::from(*in_use));
        m.pool.with_label_values(&[pool, "idle"]).set(i64::from(*idle));
    }
    let mut out = Vec::new();
    // Encoding into memory cannot fail for these metric kinds.
    let _ = TextEncoder::new().encode(&m.registry.gather(), &mut out);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_appear_in_the_exposition_text_under_route_templates() {
        request("GET", "/v1/sessions/{id}", 200, 0.003);
        rate_limited("write");
        throttled("login");
        webhook_attempt(false);
        let text = render(&[("reads", 2, 6)]);
        assert!(
            text.contains(
                r#"soleus_http_requests_total{method="GET",route="/v1/sessions/{id}",status="200"}"#
            )
        );
        assert!(text.contains(r#"soleus_http_request_duration_seconds_bucket{method="GET",route="/v1/sessions/{id}",le="0.005"}"#));
        assert!(text.contains(r#"soleus_rate_limit_rejections_total{kind="write"}"#));
        assert!(text.contains(r#"soleus_auth_throttled_total{what="login"}"#));
        assert!(text.contains(r#"soleus_webhook_attempts_total{outcome="failed"}"#));
        assert!(text.contains(r#"soleus_db_pool_connections{pool="reads",state="idle"} 6"#));
        assert!(text.contains("# TYPE soleus_db_pool_waits_total counter"));
    }
}
