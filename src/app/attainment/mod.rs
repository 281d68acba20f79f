//! The sales-credit split and attainment (业绩双计 / 虚拟利润中心; issue 25 item 7, DOMAIN.md
//! §16.6): the split setting, attainment by org unit (KA teams and branches) and month with the
//! region and HQ totals counting each order once, and the KA department's virtual profit centre.
pub mod credits;
pub mod split;
