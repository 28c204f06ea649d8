//! Rendered responses of resources that only change with a deployment (the catalogue between
//! dataset versions), kept per worker thread so a repeated read is a lookup, not a render.
//!
//! The key is the resource's dataset version plus the request's path and raw query string, so
//! `?goal=x&limit=5` and `?limit=5&goal=x` are two entries serving identical bytes. Errors are
//! never kept. Each worker keeps at most [`MAX_BYTES`] of bodies; past that it starts again
//! empty, which bounds memory whatever queries arrive, at the price of re-rendering.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use actix_web::HttpRequest;
use actix_web::web::Bytes;

/// Bodies kept per worker thread (the full list page is ≈70 KB).
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

/// A 200 response ready to send again: its strong ETag, the JSON body and extra headers.
#[derive(Debug)]
pub struct Rendered {
    pub etag: String,
    pub body: Bytes,
    pub headers: Vec<(&'static str, String)>,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<String, Rc<Rendered>>,
    bytes: usize,
}

thread_local! {
    static CACHE: RefCell<Cache> = RefCell::new(Cache::default());
}

/// The rendered response for `req` under `version`, rendering (and keeping) it on a miss.
pub fn get_or_render<E>(
    version: &str,
    req: &HttpRequest,
    render: impl FnOnce() -> Result<Rendered, E>,
) -> Result<Rc<Rendered>, E> {
    let key = format!("{version} {}?{}", req.path(), req.query_string());
    if let Some(hit) = CACHE.with_borrow(|c| c.entries.get(&key).cloned()) {
        return Ok(hit);
    }
    let rendered = Rc::new(render()?);
    CACHE.with_borrow_mut(|c| {
        let size = rendered.body.len() + key.len();
        if c.bytes + size > MAX_BYTES {
            c.entries.clear();
            c.bytes = 0;
        }
        c.bytes += size;
        c.entries.insert(key, Rc::clone(&rendered));
    });
    Ok(rendered)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn rendered(body: &'static str) -> Result<Rendered, ()> {
        Ok(Rendered {
            etag: "\"t\"".into(),
            body: Bytes::from_static(body.as_bytes()),
            headers: Vec::new(),
        })
    }

    #[test]
    fn a_hit_is_not_rendered_again_and_errors_are_not_kept() {
        let req = TestRequest::with_uri("/v1/exercises?limit=5").to_http_request();
        let first = get_or_render("v1", &req, || rendered("a")).unwrap();
        let second = get_or_render("v1", &req, || -> Result<Rendered, ()> {
            panic!("rendered twice")
        })
        .unwrap();
        assert!(Rc::ptr_eq(&first, &second));
        // Another version or query is another entry; an error is returned and not kept.
        assert_eq!(get_or_render("v2", &req, || rendered("b")).unwrap().body, "b");
        let other = TestRequest::with_uri("/v1/exercises?limit=6").to_http_request();
        assert!(get_or_render("v1", &other, || Err::<Rendered, _>(())).is_err());
        assert_eq!(get_or_render("v1", &other, || rendered("c")).unwrap().body, "c");
    }

    #[test]
    fn the_cache_starts_again_when_full() {
        let big: &'static str = Box::leak("x".repeat(MAX_BYTES / 2).into_boxed_str());
        for n in 0..3 {
            let req = TestRequest::with_uri(&format!("/big?n={n}")).to_http_request();
            get_or_render("v", &req, || rendered(big)).unwrap();
        }
        CACHE.with_borrow(|c| {
            assert!(c.bytes <= MAX_BYTES);
            assert_eq!(
                c.entries.len(),
                1,
                "each half-size entry emptied the cache before it"
            );
        });
    }
}
