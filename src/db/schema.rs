//! Hand-kept diesel schema, portable types only (Text, Integer, BigInt, Double, Bool, Timestamp):
//! both `migrations/sqlite` and `migrations/postgres` must produce these columns.

diesel::table! {
    /// Key/value facts about this database (e.g. the loaded catalogue dataset version).
    app_meta (key) {
        key -> Text,
        value -> Text,
        updated_at -> Timestamp,
    }
}
