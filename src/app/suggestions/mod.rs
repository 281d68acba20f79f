//! Customer suggestions (大客户建议处理流程; issue 24, seed 003 §一.3, docs/DOMAIN.md M10):
//! received and thanked, reported on, reviewed through the `suggestion` flow with the
//! departments concerned in parallel, carried out, and answered to the customer by the
//! promised date.
#[allow(clippy::module_inception)]
pub mod suggestions;
