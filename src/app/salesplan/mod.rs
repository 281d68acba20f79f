//! The annual KA sales plan (销售计划, issue 25 items 1–2, docs/DOMAIN.md §16.1): the past year
//! analysed from the data, the draft by the KA director, its review by the sales department
//! manager through the `annual_plan` flow (returned, revised as the next version, submitted
//! again), the approved plan's decomposition into the year's quotas, and the tracking of plan
//! against actual with the year-end appraisal.
pub mod analysis;
pub mod plan;
pub mod split;
pub mod tracking;
