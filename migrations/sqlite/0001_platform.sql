CREATE TABLE org_units (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id INTEGER REFERENCES org_units(id),
    path TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX org_units_path ON org_units(path);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    role TEXT NOT NULL,
    org_unit_id INTEGER NOT NULL REFERENCES org_units(id),
    manager_id INTEGER REFERENCES users(id),
    sales_type TEXT,
    active INTEGER NOT NULL DEFAULT 1,
    password_hash TEXT NOT NULL,
    locale TEXT NOT NULL DEFAULT 'zh-CN',
    email TEXT,
    phone TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX users_manager ON users(manager_id);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    username TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_user_at ON login_failures(username, at);

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_norm TEXT NOT NULL,
    short_name TEXT,
    credit_code TEXT UNIQUE,
    industry TEXT NOT NULL,
    level TEXT NOT NULL,
    region_id INTEGER REFERENCES org_units(id),
    branch_id INTEGER REFERENCES org_units(id),
    owner_id INTEGER REFERENCES users(id),
    inside_owner_id INTEGER REFERENCES users(id),
    ka_manager_id INTEGER REFERENCES users(id),
    status TEXT NOT NULL,
    tier TEXT,
    address TEXT,
    website TEXT,
    business_units TEXT,
    buying_power INTEGER,
    sales_12m INTEGER,
    sow_bp INTEGER,
    rad_class TEXT,
    notes TEXT,
    tags TEXT,
    current_asset_ratio_bp INTEGER,
    net_margin_bp INTEGER,
    roa_bp INTEGER,
    collection_days INTEGER,
    inventory_days INTEGER,
    credit_grade TEXT,
    credit_limit INTEGER,
    credit_score INTEGER,
    deleted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX accounts_owner ON accounts(owner_id);
CREATE INDEX accounts_inside_owner ON accounts(inside_owner_id);
CREATE INDEX accounts_ka_manager ON accounts(ka_manager_id);
CREATE INDEX accounts_region ON accounts(region_id);
CREATE INDEX accounts_branch ON accounts(branch_id);
CREATE INDEX accounts_name_norm ON accounts(name_norm);
CREATE INDEX accounts_name ON accounts(name, id);

-- Who sees an account as "own": owner, inside owner, KA manager and the account team.
-- Maintained by the app layer on every change of those fields, so scope is one indexed join.
CREATE TABLE account_access (
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    via TEXT NOT NULL,
    PRIMARY KEY (user_id, account_id, via)
);
CREATE INDEX account_access_account ON account_access(account_id);

CREATE TABLE contacts (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id),
    name TEXT NOT NULL,
    name_norm TEXT NOT NULL,
    gender TEXT,
    birthday TEXT,
    department TEXT,
    title TEXT,
    reports_to INTEGER REFERENCES contacts(id),
    decision_role TEXT,
    attitude TEXT,
    relationship INTEGER,
    interests TEXT,
    phone TEXT,
    email TEXT,
    last_contact_on TEXT,
    deleted_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX contacts_account ON contacts(account_id);

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id INTEGER,
    actor TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    before_json TEXT,
    after_json TEXT,
    request_id TEXT
);
CREATE INDEX audit_entity ON audit_log(entity, entity_id, id);
CREATE INDEX audit_actor ON audit_log(actor_id, id);
