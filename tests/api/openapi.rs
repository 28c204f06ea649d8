use crate::helpers::spawn_app;

const SPEC_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
const HINT: &str = "regenerate with: UPDATE_OPENAPI=1 cargo test --test api openapi";

fn generated() -> String {
    soleus_api::openapi::build_openapi()
        .to_pretty_json()
        .expect("spec serialises")
        + "\n"
}

#[test]
fn committed_openapi_matches_generated() {
    let generated = generated();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(SPEC_PATH, &generated).expect("write openapi/openapi.json");
        return;
    }
    let committed =
        std::fs::read_to_string(SPEC_PATH).unwrap_or_else(|_| panic!("openapi/openapi.json missing; {HINT}"));
    assert!(committed == generated, "openapi/openapi.json is stale; {HINT}");
}

#[actix_web::test]
async fn served_spec_equals_committed_spec() {
    let app = spawn_app().await;
    let res = app.get("/openapi.json").await;
    assert_eq!(res.status.as_u16(), 200);
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(SPEC_PATH).expect("committed spec"))
            .expect("valid JSON");
    assert_eq!(res.json(), committed, "served and committed specs differ; {HINT}");
}

#[test]
fn spec_is_openapi_31_with_problem_errors_and_security_schemes() {
    let spec: serde_json::Value = serde_json::from_str(&generated()).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let schemes = &spec["components"]["securitySchemes"];
    assert_eq!(schemes["bearer_auth"]["scheme"], "bearer");
    assert_eq!(schemes["partner_oauth"]["type"], "oauth2");
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let problem = response.get("$ref").is_some()
                        || response["content"]["application/problem+json"]["schema"]["$ref"]
                            == "#/components/schemas/Problem";
                    assert!(problem, "{method} {path} {status} must use the Problem schema");
                }
            }
        }
    }
}
