use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::HeaderMap;
use diesel::Connection as _;
use diesel::RunQueryDsl as _;
use serde_json::Value;
use soleus_api::config::Settings;
use soleus_api::startup::{Application, ExtraRoutes};

pub struct TestApp {
    pub address: String,
    pub client: awc::Client,
    pub database_url: String,
    _pg: Option<PgDatabase>,
    _dir: tempfile::TempDir,
}

/// A response read to the end.
#[derive(Debug)]
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: actix_web::web::Bytes,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

fn client() -> awc::Client {
    awc::Client::builder()
        .timeout(Duration::from_secs(30))
        .disable_redirects()
        .finish()
}

/// A port nothing listens on now (for server processes the tests start).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port()
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}, None).await
}

/// Spawns the app with adjusted settings and optional extra (test-only) routes.
pub async fn spawn_app_with(adjust: impl FnOnce(&mut Settings), extra: Option<ExtraRoutes>) -> TestApp {
    init_test_logging();
    let dir = tempfile::tempdir().expect("temp dir");
    let pg = std::env::var("TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .map(|u| PgDatabase::create(&u));
    let database_url = match &pg {
        Some(db) => db.url.clone(),
        None => dir.path().join("soleus.db").to_string_lossy().into_owned(),
    };
    let mut settings = Settings::for_tests(dir.path().to_path_buf(), database_url.clone());
    settings.workers = 1;
    adjust(&mut settings);
    let app = Application::build_with(&settings, extra).expect("the app builds");
    let address = format!("http://127.0.0.1:{}", app.port());
    actix_web::rt::spawn(app.run_until_stopped());
    TestApp {
        address,
        client: client(),
        database_url,
        _pg: pg,
        _dir: dir,
    }
}

impl TestApp {
    /// The same database and keys behind another server at `address` (a replica process).
    pub fn at(&self, address: String) -> TestApp {
        TestApp {
            address,
            client: client(),
            database_url: self.database_url.clone(),
            _pg: None,
            _dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    /// The server's data folder (its generated signing key lives here).
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn send(&self, req: awc::ClientRequest, body: Option<&[u8]>) -> Response {
        let sent = match body {
            Some(b) => req.send_body(b.to_vec()).await,
            None => req.send().await,
        };
        let mut res = sent.expect("request sent");
        let body = res.body().limit(16 * 1024 * 1024).await.expect("body read");
        Response {
            status: res.status(),
            headers: res.headers().clone(),
            body,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.send(self.client.get(self.url(path)), None).await
    }

    /// POSTs raw bytes with the given content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: &[u8]) -> Response {
        let req = self
            .client
            .post(self.url(path))
            .insert_header(("Content-Type", content_type));
        self.send(req, Some(body)).await
    }

    pub async fn post_json(&self, path: &str, body: &Value) -> Response {
        self.post_raw(path, "application/json", body.to_string().as_bytes())
            .await
    }

    /// A direct connection to the test database, bypassing the server.
    pub fn raw_connection(&self) -> soleus_api::db::AnyConnection {
        soleus_api::db::AnyConnection::establish(&self.database_url).expect("direct connection")
    }

    pub fn execute_sql(&self, sql: &str) {
        let mut conn = self.raw_connection();
        diesel::sql_query(sql).execute(&mut conn).expect("sql runs");
    }
}

/// Asserts an RFC 9457 problem with `status` and returns its body.
pub fn assert_problem(res: &Response, status: u16) -> Value {
    assert_eq!(
        res.status.as_u16(),
        status,
        "unexpected status; body: {}",
        String::from_utf8_lossy(&res.body)
    );
    assert_eq!(
        res.header("content-type"),
        Some("application/problem+json"),
        "content type"
    );
    let body = res.json();
    assert_eq!(body["status"], status, "status member");
    let type_uri = body["type"].as_str().expect("type is a string");
    assert!(
        type_uri.starts_with("https://soleus-api.dev/problems/"),
        "{type_uri}"
    );
    assert!(body["title"].as_str().is_some_and(|t| !t.is_empty()), "title");
    let request_id = res.header("x-request-id").expect("x-request-id header");
    assert_eq!(
        body["request_id"], request_id,
        "request_id member matches the header"
    );
    assert!(
        body["instance"].as_str().is_some_and(|i| i.starts_with('/')),
        "instance"
    );
    body
}

fn init_test_logging() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("TEST_LOG").is_some() {
            soleus_api::telemetry::init(soleus_api::config::LogFormat::Pretty);
        }
    });
}

/// A fresh PostgreSQL database, dropped when the test ends.
pub struct PgDatabase {
    admin_url: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    fn create(admin_url: &str) -> Self {
        let name = format!("soleus_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = diesel::PgConnection::establish(admin_url).expect("TEST_DATABASE_URL connects");
        diesel::sql_query(format!("CREATE DATABASE \"{name}\""))
            .execute(&mut conn)
            .expect("create database");
        let base = admin_url.rsplit_once('/').map_or(admin_url, |(base, _)| base);
        Self {
            url: format!("{base}/{name}"),
            admin_url: admin_url.to_owned(),
            name,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        if let Ok(mut conn) = diesel::PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name))
                .execute(&mut conn);
        }
    }
}
