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
    let code_flow = &schemes["partner_oauth"]["flows"]["authorizationCode"];
    assert_eq!(code_flow["authorizationUrl"], "/v1/oauth/authorize");
    assert_eq!(code_flow["tokenUrl"], "/v1/oauth/token");
    assert!(schemes["partner_oauth"]["flows"]["clientCredentials"].is_object());
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let problem = response.get("$ref").is_some()
                        || response["content"]["application/problem+json"]["schema"]["$ref"]
                            == "#/components/schemas/Problem";
                    // The consent page answers people, in HTML.
                    let page = path == "/v1/oauth/authorize" && response["content"]["text/html"].is_object();
                    assert!(
                        problem || page,
                        "{method} {path} {status} must use the Problem schema"
                    );
                }
            }
        }
    }
}

/// utoipa names a schema after its Rust type: two public types with one name would make one
/// schema silently stand for both (this happened once, with `Retest`).
#[test]
fn public_type_names_are_unique_so_schema_names_are_too() {
    fn walk(dir: &std::path::Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for line in text.lines() {
                    let line = line.trim_start();
                    for kind in ["pub struct ", "pub enum "] {
                        if let Some(rest) = line.strip_prefix(kind) {
                            let name: String = rest
                                .chars()
                                .take_while(|c| c.is_alphanumeric() || *c == '_')
                                .collect();
                            out.push((name, path.display().to_string()));
                        }
                    }
                }
            }
        }
    }
    let mut names = Vec::new();
    walk(
        std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/src")),
        &mut names,
    );
    names.sort();
    let dupes: Vec<_> = names.windows(2).filter(|w| w[0].0 == w[1].0).collect();
    assert!(dupes.is_empty(), "duplicate public type names: {dupes:?}");
}
