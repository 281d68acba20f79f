//! Data made for showing and measuring KAM, written through the use cases: the demo company
//! (`kam demo`, `kam serve --demo`) and the benchmark datasets (`kam dataset l3-60k`); and
//! hostile spreadsheets that the import must refuse within its limits (`hostile`, for the tests
//! and the reliability battery).
pub mod dataset;
pub mod demo;
pub mod hostile;
