//! The layering rules, checked on the source tree: arrows point down only.
//!
//! `routes` → `services` → `domain` and `repository` → `db`. The domain imports nothing with
//! I/O, HTTP, storage or the error policy; use cases import no HTTP.

use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source folder").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `(file, forbidden)` pair where a file under `src/{folder}` mentions a forbidden path.
fn violations(folder: &str, forbidden: &[&str]) -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src").join(folder);
    let mut files = Vec::new();
    sources(&root, &mut files);
    assert!(!files.is_empty(), "no sources under {}", root.display());
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable source");
        for word in forbidden {
            if text.contains(word) {
                found.push((file.display().to_string(), (*word).to_owned()));
            }
        }
    }
    found
}

#[test]
fn the_domain_imports_nothing_above_it() {
    let found = violations(
        "domain",
        &[
            "crate::error",
            "crate::http",
            "crate::db",
            "crate::repository",
            "crate::routes",
            "crate::auth",
            "crate::services",
            "crate::startup",
            "crate::config",
            "use crate::{",
            "actix",
            "diesel",
            // No clock: the same input gives the same programme; the caller says what day it is.
            "Utc::now",
            "Local::now",
            "SystemTime",
            "Instant::now",
        ],
    );
    assert!(found.is_empty(), "the domain must stay pure: {found:?}");
}

#[test]
fn use_cases_import_no_http() {
    let found = violations(
        "services",
        &[
            "crate::http",
            "crate::routes",
            // Tokens and passwords are theirs to use; the request extractors are not.
            "crate::auth::acting",
            "crate::auth::extract",
            "AuthUser",
            "use crate::{",
            "actix",
            "HttpResponse",
        ],
    );
    assert!(
        found.is_empty(),
        "use cases return domain results, not HTTP: {found:?}"
    );
}

#[test]
fn storage_imports_no_use_case_or_http() {
    let found = violations(
        "repository",
        &[
            "crate::services",
            "crate::routes",
            "crate::http",
            "crate::error",
            "crate::auth",
            "actix",
        ],
    );
    assert!(found.is_empty(), "storage sits below the use cases: {found:?}");
}

#[test]
fn handlers_call_use_cases_not_storage_or_each_other() {
    let found = violations(
        "routes",
        &[
            "crate::routes",
            "super::",
            "crate::repository",
            "db::run",
            "db::query",
            "db::write",
            "db::autocommit",
        ],
    );
    assert!(
        found.is_empty(),
        "one route module per resource, each calling use cases, never storage: {found:?}"
    );
}
