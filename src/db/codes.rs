//! The domain's code enums (role, stage, statuses, approval state, …) read straight from their
//! TEXT columns: `row.try_get::<Role, _>("role")`. An unknown code in the database is a decode
//! error naming the column, never a silently empty value. Written as codes with `.code()`.
//! Also `Flag`: a 0/1 column read as a `bool` by row types deriving `FromRow`.
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
    crate::domain::quote::QuoteState,
    crate::domain::quote::InstallmentKind,
    crate::domain::bid::BidDecision,
    crate::domain::bid::BidExceptionState,
    crate::domain::bid::BidResult,
    crate::domain::order::OrderState,
    crate::domain::order::OrderVersionState,
    crate::domain::order::DueEvent,
    crate::domain::delivery::OutboundState,
    crate::domain::receivable::ReceivableState,
    crate::domain::receivable::PaymentMethod,
    crate::domain::receivable::Channel,
    crate::domain::receivable::HoldKind,
    crate::domain::receivable::CreditStage,
    crate::domain::writeoff::WriteoffState,
    crate::domain::credit_change::CreditTriggerKind,
    crate::domain::credit_change::CreditTriggerState,
    crate::domain::credit_change::CreditChangeState,
);

/// A 0/1 INTEGER column read as a `bool` (1 is true) by a row type deriving `FromRow`:
/// `#[sqlx(try_from = "Flag")] active: bool`.
pub struct Flag(bool);

impl Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <i64 as Type<Any>>::type_info()
    }
    fn compatible(ty: &AnyTypeInfo) -> bool {
        <i64 as Type<Any>>::compatible(ty)
    }
}
impl<'r> Decode<'r, Any> for Flag {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Flag(<i64 as Decode<'r, Any>>::decode(value)? == 1))
    }
}
impl From<Flag> for bool {
    fn from(f: Flag) -> bool {
        f.0
    }
}

/// A nullable TEXT column holding JSON, read leniently by a row type deriving `FromRow`: NULL
/// or text that does not parse is `None`. `#[sqlx(try_from = "JsonText<Value>")] after: Option<Value>`.
pub struct JsonText<T>(Option<T>);

impl<T> Type<Any> for JsonText<T> {
    fn type_info() -> AnyTypeInfo {
        <String as Type<Any>>::type_info()
    }
    fn compatible(ty: &AnyTypeInfo) -> bool {
        <String as Type<Any>>::compatible(ty)
    }
}
impl<'r, T: serde::de::DeserializeOwned> Decode<'r, Any> for JsonText<T> {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        let text = <Option<&str> as Decode<'r, Any>>::decode(value)?;
        Ok(JsonText(text.and_then(|t| serde_json::from_str(t).ok())))
    }
}
impl<T> From<JsonText<T>> for Option<T> {
    fn from(j: JsonText<T>) -> Option<T> {
        j.0
    }
}
impl From<JsonText<serde_json::Value>> for serde_json::Value {
    /// NULL or text that does not parse is JSON `null`.
    fn from(j: JsonText<serde_json::Value>) -> serde_json::Value {
        j.0.unwrap_or(serde_json::Value::Null)
    }
}

/// A money column (integer fen) read as its decimal string (`format_fen`) by a row type
/// deriving `FromRow`: `#[sqlx(try_from = "Fen")] amount: String`.
pub struct Fen(i64);

impl Type<Any> for Fen {
    fn type_info() -> AnyTypeInfo {
        <i64 as Type<Any>>::type_info()
    }
    fn compatible(ty: &AnyTypeInfo) -> bool {
        <i64 as Type<Any>>::compatible(ty)
    }
}
impl<'r> Decode<'r, Any> for Fen {
    fn decode(value: AnyValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Fen(<i64 as Decode<'r, Any>>::decode(value)?))
    }
}
impl From<Fen> for String {
    fn from(f: Fen) -> String {
        crate::domain::money::format_fen(f.0)
    }
}
