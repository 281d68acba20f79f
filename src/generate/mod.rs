//! Data made for showing and measuring KAM, written through the use cases: the demo company
//! (`kam demo`, `kam serve --demo`) and the benchmark datasets (`kam dataset l3-60k`).
pub mod dataset;
pub mod demo;
