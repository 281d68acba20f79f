//! Roles (docs/DOMAIN.md#8-people-roles-and-scope) and what each may see and do. This table is the one place where a role's
//! reach is decided; queries and presenters ask it.

macro_rules! string_enum {
    ($(#[$m:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name { $(#[serde(rename = $code)] $variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str { match self { $($name::$variant => $code),+ } }
            pub fn as_str(&self) -> &'static str { self.code() }
            pub fn parse(s: &str) -> Result<Self, &'static str> {
                match s.trim() { $($code => Ok($name::$variant),)+ _ => Err("invalid_choice") }
            }
        }
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($code),+]))
                    .into()
            }
        }
        impl utoipa::ToSchema for $name {
            /// Enums of the activity and approval modules carry the module's name
            /// (`ActivityStatus`, `ApprovalState`), so no two share a schema name.
            fn name() -> std::borrow::Cow<'static, str> {
                let prefix = match module_path!().rsplit("::").next() {
                    Some("activity") => "Activity",
                    Some("approval") => "Approval",
                    _ => "",
                };
                format!("{prefix}{}", stringify!($name)).into()
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str { self.code() }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { f.write_str(self.code()) }
        }
    };
}
pub(crate) use string_enum;

string_enum!(Role {
    Admin = "admin",
    Gm = "gm",
    MarketingDirector = "marketing_director",
    SalesDeptManager = "sales_dept_manager",
    KaDirector = "ka_director",
    KaManager = "ka_manager",
    KaRep = "ka_rep",
    InsideSales = "inside_sales",
    BranchManager = "branch_manager",
    CommercialManager = "commercial_manager",
    FinanceManager = "finance_manager",
    LogisticsManager = "logistics_manager",
    Marketing = "marketing",
});

string_enum!(SalesType { Ae = "ae", Sr = "sr" });

string_enum!(OrgKind { Hq = "hq", Region = "region", Branch = "branch" });

/// How far a role's view of business data reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// No business data (the administrator).
    Nothing,
    /// Accounts the user owns, is inside owner or KA manager of, or is on the team of.
    Own,
    /// Own, plus everything the users below them in the manager chain may see as owners.
    Reports,
    /// Every account whose region or branch lies in the user's org subtree.
    OrgSubtree,
    /// Every account.
    All,
}

impl Role {
    pub fn reach(self) -> Reach {
        use Role::*;
        match self {
            Admin => Reach::Nothing,
            KaRep | InsideSales => Reach::Own,
            KaManager => Reach::Reports,
            BranchManager => Reach::OrgSubtree,
            Gm | MarketingDirector | SalesDeptManager | KaDirector | FinanceManager | CommercialManager
            | LogisticsManager | Marketing => Reach::All,
        }
    }

    /// A product's floor price and standard cost (the catalogue's confidential columns, used
    /// for margins and the floor-price rule of quotes) reach the commercial, finance and
    /// director roles only.
    pub fn sees_floor_price(self) -> bool {
        use Role::*;
        matches!(self, CommercialManager | FinanceManager | KaDirector | SalesDeptManager | MarketingDirector | Gm)
    }

    /// Who keeps the product catalogue (creates, edits, imports, deactivates products).
    pub fn edits_catalogue(self) -> bool {
        use Role::*;
        matches!(self, CommercialManager | KaDirector | SalesDeptManager | MarketingDirector | Gm)
    }

    /// Credit grade, limit and score reach supervisor level and above only (003 §六).
    pub fn sees_credit(self) -> bool {
        use Role::*;
        matches!(self, KaDirector | FinanceManager | SalesDeptManager | MarketingDirector | Gm | BranchManager)
    }

    /// Sales roles edit accounts and contacts they can see; support functions only read.
    pub fn edits_accounts(self) -> bool {
        use Role::*;
        matches!(
            self,
            Gm | MarketingDirector | SalesDeptManager | KaDirector | KaManager | KaRep | InsideSales | BranchManager
        )
    }

    /// Assigning owners (and deleting accounts) is a manager's act.
    pub fn manages_accounts(self) -> bool {
        use Role::*;
        matches!(self, Gm | MarketingDirector | SalesDeptManager | KaDirector | KaManager | BranchManager)
    }

    pub fn deletes_accounts(self) -> bool {
        use Role::*;
        matches!(self, Gm | MarketingDirector | SalesDeptManager | KaDirector)
    }

    /// The salespeople offered where an account, a team place or an activity needs one: the
    /// ones who work accounts day to day (KA rep, inside sales, KA manager).
    pub fn works_accounts(self) -> bool {
        matches!(self, Role::KaRep | Role::InsideSales | Role::KaManager)
    }

    /// Who may be named an account's owner or inside owner: those who work accounts, and the
    /// KA director (who holds accounts no one else does).
    pub fn may_own_accounts(self) -> bool {
        self.works_accounts() || self == Role::KaDirector
    }

    pub fn is_admin(self) -> bool {
        self == Role::Admin
    }

    /// Sees the whole audit trail (otherwise: only records in scope, and own actions).
    pub fn sees_all_audit(self) -> bool {
        matches!(self, Role::Admin | Role::Gm)
    }
}

// ---------------------------------------------------------------- titles

/// The title of a branch manager placed on a region unit: the region's manager (销售大区经理,
/// `seeds/000`), not the branch's.
pub const REGION_MANAGER_TITLE: &str = "branch_manager_region";

/// Which title a person is shown with (docs/DOMAIN.md#8): their role's, except a branch manager
/// placed on a region unit, shown with the region manager's. Codes stay as they are.
pub fn title_slot(role: Role, kind: Option<OrgKind>) -> &'static str {
    match (role, kind) {
        (Role::BranchManager, Some(OrgKind::Region)) => REGION_MANAGER_TITLE,
        (r, _) => r.code(),
    }
}

/// Every title the company may set: one per role, the region manager's after the branch's.
pub fn title_slots() -> Vec<&'static str> {
    let mut out = vec![];
    for r in Role::ALL {
        out.push(r.code());
        if *r == Role::BranchManager {
            out.push(REGION_MANAGER_TITLE);
        }
    }
    out
}

/// A title in the two languages; a language left out shows the manual's default.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Title {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zh: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<String>,
}

/// The titles the company set (setting `role_titles`): only those that differ from the manual's
/// defaults (the texts `role.*` of the locale file).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct RoleTitles(pub std::collections::BTreeMap<String, Title>);

/// The longest title, in characters.
pub const TITLE_MAX: usize = 40;

impl RoleTitles {
    /// The stored JSON; anything that does not read as titles is no titles (the defaults).
    pub fn from_json(s: Option<&str>) -> RoleTitles {
        s.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
    }
    /// The company's title for a slot in a language (`en` or Chinese), if it set one.
    pub fn get(&self, slot: &str, en: bool) -> Option<&str> {
        let t = self.0.get(slot)?;
        if en {
            t.en.as_deref()
        } else {
            t.zh.as_deref()
        }
    }
}
