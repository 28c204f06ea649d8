use crate::helpers::spawn_app;

#[actix_web::test]
async fn meta_describes_the_server() {
    let app = spawn_app().await;
    let res = app.get("/v1/meta").await;
    assert_eq!(res.status.as_u16(), 200);
    let body = res.json();
    let storage = if std::env::var_os("TEST_DATABASE_URL").is_some() {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(body["api_version"], "v1");
    assert_eq!(body["build"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(body["storage"], storage);
    assert_eq!(body["min_client_version"], "1.0.0");
    assert!(body.as_object().unwrap().contains_key("catalogue_version"));
}

#[actix_web::test]
async fn the_minimum_client_version_is_configurable() {
    let app = crate::helpers::spawn_app_with(|s| s.min_client_version = "2.3.0".into(), None).await;
    assert_eq!(app.get("/v1/meta").await.json()["min_client_version"], "2.3.0");
}
