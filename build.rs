// Cargo does not track the files `embed_migrations!` reads: rebuild when a migration changes.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
