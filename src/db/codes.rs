//! The domain's code enums (role, stage, statuses, approval state, …) read straight from their
//! TEXT columns: `row.try_get::<Role, _>("role")`. An unknown code in the database is a decode
//! error naming the column, never a silently empty value. Written as codes with `.code()`.
use sqlx::any::{Any, AnyTypeInfo, AnyValueRef};
use sqlx::error::BoxDynError;
use sqlx::{Decode, Type};

macro_rules! code_columns {
    ($($t:ty),+ $(,)?) => {$(
        impl Type<Any> for $t {
            fn type_info() -> AnyTypeInfo {
                <String as Type<Any>>::type_info()
            }
            fn compatible(ty: &AnyTypeInfo) -> bool {
                <String as Type<Any>>::compatible(ty)
            }
        }
        impl<'r> Decode<'r, Any> for $t {
            fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
                let s = <&str as Decode<'r, Any>>::decode(value)?;
                <$t>::parse(s).map_err(|_| format!("unknown {} code {s:?}", stringify!($t)).into())
            }
        }
        impl From<$t> for super::sql::Val {
            fn from(v: $t) -> Self {
                super::sql::Val::Text(Some(v.code().to_string()))
            }
        }
        impl From<Option<$t>> for super::sql::Val {
            fn from(v: Option<$t>) -> Self {
                super::sql::Val::Text(v.map(|v| v.code().to_string()))
            }
        }
    )+};
}

code_columns!(
    crate::domain::role::Role,
    crate::domain::role::SalesType,
    crate::domain::role::OrgKind,
    crate::domain::account::Status,
    crate::domain::account::Tier,
    crate::domain::opportunity::Stage,
    crate::domain::activity::Kind,
    crate::domain::activity::Status,
    crate::domain::activity::Outcome,
    crate::domain::approval::Flow,
    crate::domain::approval::State,
);
