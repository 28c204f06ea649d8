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

diesel::table! {
    /// A copy of the catalogue (see `repository::exercises`).
    exercises (id) {
        id -> Text,
        name -> Text,
        /// The exercise as JSON, as the API serves it.
        document -> Text,
        dataset_version -> Text,
        retired -> Bool,
        updated_at -> Timestamp,
    }
}
