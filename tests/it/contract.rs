//! The API contract, checked on every answer the integration suite receives: each JSON
//! response of an `/api/v1` operation must match the schema its OpenAPI operation gives for
//! that status, and the status must be one the operation documents.
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use serde_json::Value;

static DOC: LazyLock<Value> = LazyLock::new(|| {
    let (_, ops) = kam::web::api::routes();
    kam::web::openapi::document(&ops)
});

type Cache = Mutex<HashMap<(String, String, u16), Option<Arc<jsonschema::Validator>>>>;
static VALIDATORS: LazyLock<Cache> = LazyLock::new(Default::default);

/// The documented path template an actual path belongs to: the one with most literal
/// segments among those that match (so `/accounts/count` wins over `/accounts/{id}`).
pub fn template_of(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.split('/').collect();
    let paths = DOC["paths"].as_object()?;
    paths
        .keys()
        .filter_map(|t| {
            let ts: Vec<&str> = t.split('/').collect();
            if ts.len() != segs.len() {
                return None;
            }
            let mut literal = 0;
            for (a, b) in ts.iter().zip(&segs) {
                if a.starts_with('{') {
                    continue;
                }
                if a != b {
                    return None;
                }
                literal += 1;
            }
            Some((literal, t.clone()))
        })
        .max()
        .map(|(_, t)| t)
}

fn resolve(v: &Value) -> &Value {
    match v.get("$ref").and_then(Value::as_str) {
        Some(r) => {
            let ptr = r.trim_start_matches('#');
            DOC.pointer(ptr).unwrap_or(v)
        }
        None => v,
    }
}

/// Panics when an answer breaks the contract. `uri` may carry a query string.
pub fn check(method: &str, uri: &str, status: u16, content_type: Option<&str>, body: &str) {
    let path = uri.split('?').next().unwrap_or(uri);
    if !path.starts_with("/api/v1/") {
        return;
    }
    let Some(template) = template_of(path) else { return };
    let m = method.to_lowercase();
    let Some(op) = DOC["paths"][&template].get(&m) else { return };
    // An operation still registered without a typed contract is not checked (the OpenAPI
    // test counts those).
    let typed = op["responses"].as_object().is_some_and(|r| r.keys().any(|k| k.starts_with('2')));
    if !typed {
        return;
    }
    let Some(resp) = op["responses"].get(status.to_string()) else {
        panic!("{method} {template} answered {status}, which its OpenAPI operation does not document: {body}");
    };
    let is_json = content_type.is_some_and(|c| c.starts_with("application/json"));
    if !is_json {
        return;
    }
    let key = (m, template.clone(), status);
    let validator = {
        let mut cache = VALIDATORS.lock().expect("validator cache");
        cache
            .entry(key)
            .or_insert_with(|| {
                let resp = resolve(resp);
                let schema = resp.pointer("/content/application~1json/schema")?;
                let mut root = schema.clone();
                if let Some(o) = root.as_object_mut() {
                    o.insert("components".into(), DOC["components"].clone());
                }
                let v = jsonschema::options()
                    .with_draft(jsonschema::Draft::Draft202012)
                    .should_validate_formats(true)
                    .build(&root)
                    .unwrap_or_else(|e| panic!("{method} {template} {status}: the schema does not compile: {e}"));
                Some(Arc::new(v))
            })
            .clone()
    };
    let Some(validator) = validator else {
        panic!("{method} {template} answered JSON with {status}, for which its operation documents no JSON body");
    };
    let instance: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => panic!("{method} {uri} {status}: not JSON ({e}): {body}"),
    };
    let errors: Vec<String> =
        validator.iter_errors(&instance).take(5).map(|e| format!("{} at {}", e, e.instance_path)).collect();
    assert!(
        errors.is_empty(),
        "{method} {uri} answered {status} against its OpenAPI schema:\n  {}\nbody: {}",
        errors.join("\n  "),
        &body[..body.len().min(2000)]
    );
}
