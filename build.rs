//! The texts in `locales/` are compiled into the binary by rust-i18n's macro, which cargo does
//! not know to watch: rebuild when they change.
fn main() {
    println!("cargo:rerun-if-changed=locales");
}
