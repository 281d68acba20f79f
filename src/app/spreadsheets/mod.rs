//! Spreadsheets in and out (docs/DOMAIN.md#1-customers (1.9)): imports of accounts and contacts
//! from XLSX/CSV (all rows or none, with a per-row report), their runs, and exports.
pub mod bounds;
pub mod export;
pub mod import;
pub mod import_runs;
