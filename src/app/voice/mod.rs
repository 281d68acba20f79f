//! Hearing the key accounts (issue 24 items 5 and 6; seed 002 §六; DOMAIN M8): the quarterly
//! satisfaction surveys (`surveys`) and the open-points list every problem they, a suggestion
//! or a service evaluation raise becomes (`opl`), reviewed every two weeks by the account's KA
//! manager and reported monthly to management.
pub mod opl;
pub mod surveys;
