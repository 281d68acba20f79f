//! Prints the OpenAPI document (`cargo run --example openapi > openapi.json`), as
//! `/api/openapi.json` serves it, without a database or a server.
fn main() {
    let (_, ops) = kam::web::api::routes();
    println!("{}", serde_json::to_string_pretty(&kam::web::openapi::document(&ops)).expect("document"));
}
