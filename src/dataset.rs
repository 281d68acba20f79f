//! Benchmark datasets (being written by a teammate; replaced wholesale).
pub struct Summary {
    pub org_units: usize,
    pub users: usize,
    pub accounts: usize,
    pub contacts: usize,
}

pub async fn generate(_db: &crate::db::Db, profile: &str, _seed: u64, _password: &str) -> anyhow::Result<Summary> {
    anyhow::bail!("dataset {profile} is not available yet")
}
