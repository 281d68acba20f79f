-- Issue 26 item 5: the reporting schema for BI tools (PostgreSQL only; SQLite has no schemas
-- and no roles, and gets nothing for this).
--
-- `reporting` holds read-only views over the tables, with real types: times as timestamptz
-- (stored as RFC 3339 UTC text), days as date, months as the date of their first day, amounts
-- in yuan as numeric(18,2) (stored as integer fen), basis points as percentages, 0/1 flags as
-- boolean; beside each code column its Chinese label (`stage`, `stage_label`), beside each
-- person's id their name, beside each org unit's id its code and name, beside each account's
-- id its name. Secrets are left out: password hashes, sessions, API tokens, survey link tokens,
-- webhook addresses. Soft-deleted accounts, contacts, opportunities and activities are left out.
-- Every view and column carries a comment, which BI tools show. docs/REPORTING.md describes them.
--
-- The role kam_reporting (NOLOGIN; roles belong to the whole cluster, so it is made only when
-- missing) may read the views and nothing else: views run with their owner's rights, so it
-- needs no right on the tables in public. A company gives a BI tool its own login in it:
--     CREATE ROLE metabase LOGIN PASSWORD '…' IN ROLE kam_reporting;
-- A later migration that adds a view grants it again (GRANT SELECT ON ALL TABLES IN SCHEMA
-- reporting TO kam_reporting).

CREATE SCHEMA reporting;
COMMENT ON SCHEMA reporting IS 'KAM 报表视图（只读，供 BI 工具使用） (read-only views for BI tools; docs/REPORTING.md)';

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'kam_reporting') THEN
        BEGIN
            CREATE ROLE kam_reporting NOLOGIN;
        EXCEPTION
        WHEN duplicate_object OR unique_violation THEN
            NULL; -- made meanwhile by another database's migration on the same server
        WHEN insufficient_privilege THEN
            -- KAM's database user may not create roles: the views are made all the same, and
            -- a superuser creates the role and runs the two GRANTs at the end of this file.
            RAISE NOTICE 'kam_reporting not created (no CREATEROLE); see docs/REPORTING.md';
        END;
    END IF;
END
$$;

CREATE VIEW reporting.org_units AS
SELECT
    t.id AS id,
    t.code AS code,
    t.name AS name,
    t.kind AS kind,
    CASE t.kind WHEN 'hq' THEN '总部' WHEN 'region' THEN '大区' WHEN 'branch' THEN '分公司' ELSE t.kind END AS kind_label,
    t.parent_id AS parent_id,
    j1.code AS parent_code,
    j1.name AS parent_name,
    t.path AS path,
    CAST(t.created_at AS timestamptz) AS created_at
FROM org_units t
LEFT JOIN org_units j1 ON j1.id = t.parent_id;
COMMENT ON VIEW reporting.org_units IS '组织单元：总部、大区、分公司 (org units)';
COMMENT ON COLUMN reporting.org_units.id IS '编号 (id)';
COMMENT ON COLUMN reporting.org_units.code IS '组织代码';
COMMENT ON COLUMN reporting.org_units.name IS '组织名称';
COMMENT ON COLUMN reporting.org_units.kind IS '类型（代码）';
COMMENT ON COLUMN reporting.org_units.kind_label IS '类型（中文名称）';
COMMENT ON COLUMN reporting.org_units.parent_id IS '上级组织（组织编号）';
COMMENT ON COLUMN reporting.org_units.parent_code IS '上级组织（组织代码）';
COMMENT ON COLUMN reporting.org_units.parent_name IS '上级组织（组织名称）';
COMMENT ON COLUMN reporting.org_units.path IS '在组织树中的路径';
COMMENT ON COLUMN reporting.org_units.created_at IS '创建时间（时间，UTC）';

CREATE VIEW reporting.users AS
SELECT
    t.id AS id,
    t.username AS username,
    t.display_name AS display_name,
    t.role AS role,
    CASE t.role WHEN 'admin' THEN '系统管理员' WHEN 'gm' THEN '总经理' WHEN 'marketing_director' THEN '营销总监' WHEN 'sales_dept_manager' THEN '销售部经理' WHEN 'ka_director' THEN '大客户销售主管' WHEN 'ka_manager' THEN '大客户销售经理' WHEN 'ka_rep' THEN '大客户销售代表' WHEN 'inside_sales' THEN '内部销售' WHEN 'branch_manager' THEN '分公司经理' WHEN 'commercial_manager' THEN '商务经理' WHEN 'finance_manager' THEN '财务经理' WHEN 'logistics_manager' THEN '物流经理' WHEN 'marketing' THEN '市场部' ELSE t.role END AS role_label,
    t.org_unit_id AS org_unit_id,
    j1.code AS org_unit_code,
    j1.name AS org_unit_name,
    t.manager_id AS manager_id,
    j2.display_name AS manager_name,
    t.sales_type AS sales_type,
    CASE t.sales_type WHEN 'ae' THEN '外部销售(AE)' WHEN 'sr' THEN '内部销售(SR)' ELSE t.sales_type END AS sales_type_label,
    (t.active = 1) AS active,
    t.email AS email,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM users t
LEFT JOIN org_units j1 ON j1.id = t.org_unit_id
LEFT JOIN users j2 ON j2.id = t.manager_id;
COMMENT ON VIEW reporting.users IS '用户（不含密码、令牌、会话与 Webhook 地址） (users, without secrets)';
COMMENT ON COLUMN reporting.users.id IS '编号 (id)';
COMMENT ON COLUMN reporting.users.username IS '用户名';
COMMENT ON COLUMN reporting.users.display_name IS '姓名';
COMMENT ON COLUMN reporting.users.role IS '角色（代码）';
COMMENT ON COLUMN reporting.users.role_label IS '角色（中文名称）';
COMMENT ON COLUMN reporting.users.org_unit_id IS '所属组织（组织编号）';
COMMENT ON COLUMN reporting.users.org_unit_code IS '所属组织（组织代码）';
COMMENT ON COLUMN reporting.users.org_unit_name IS '所属组织（组织名称）';
COMMENT ON COLUMN reporting.users.manager_id IS '直接上级（用户编号）';
COMMENT ON COLUMN reporting.users.manager_name IS '直接上级（姓名）';
COMMENT ON COLUMN reporting.users.sales_type IS '销售类型（代码）';
COMMENT ON COLUMN reporting.users.sales_type_label IS '销售类型（中文名称）';
COMMENT ON COLUMN reporting.users.active IS '在职/启用（是/否）';
COMMENT ON COLUMN reporting.users.email IS '邮箱';
COMMENT ON COLUMN reporting.users.created_at IS '创建时间（时间，UTC）';
COMMENT ON COLUMN reporting.users.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.accounts AS
SELECT
    t.id AS id,
    t.name AS name,
    t.short_name AS short_name,
    t.credit_code AS credit_code,
    t.industry AS industry,
    CASE t.industry WHEN 'government' THEN '政府' WHEN 'military' THEN '军工' WHEN 'enterprise' THEN '企业' WHEN 'education' THEN '教育' WHEN 'finance' THEN '金融' WHEN 'power' THEN '电力' WHEN 'telecom' THEN '电信' WHEN 'other' THEN '其他' ELSE t.industry END AS industry_label,
    t.level AS level,
    CASE t.level WHEN 'L1' THEN 'L1 重点' WHEN 'L2' THEN 'L2' WHEN 'L3' THEN 'L3 基础库' ELSE t.level END AS level_label,
    t.region_id AS region_id,
    j1.code AS region_code,
    j1.name AS region_name,
    t.branch_id AS branch_id,
    j2.code AS branch_code,
    j2.name AS branch_name,
    t.owner_id AS owner_id,
    j3.display_name AS owner_name,
    t.inside_owner_id AS inside_owner_id,
    j4.display_name AS inside_owner_name,
    t.ka_manager_id AS ka_manager_id,
    j5.display_name AS ka_manager_name,
    t.status AS status,
    CASE t.status WHEN 'prospect' THEN '潜在客户' WHEN 'candidate' THEN '潜在大客户' WHEN 'key_account' THEN '大客户' WHEN 'downgraded' THEN '已降级' ELSE t.status END AS status_label,
    t.tier AS tier,
    CASE t.tier WHEN 'strategic' THEN '战略' WHEN 'A' THEN 'A 类' WHEN 'B' THEN 'B 类' WHEN 'C' THEN 'C 类' ELSE t.tier END AS tier_label,
    t.tier_score AS tier_score,
    t.rad_class AS rad_class,
    CASE t.rad_class WHEN 'R1' THEN 'R1 保持型（采购量大）' WHEN 'R2' THEN 'R2 保持型（采购量中）' WHEN 'R3' THEN 'R3 保持型（采购量小）' WHEN 'D1' THEN 'D1 发展型（采购量大）' WHEN 'D2' THEN 'D2 发展型（采购量中）' WHEN 'D3' THEN 'D3 发展型（采购量小）' WHEN 'A1' THEN 'A1 开拓型（采购量大）' WHEN 'A2' THEN 'A2 开拓型（采购量中）' WHEN 'A3' THEN 'A3 开拓型（采购量小）' ELSE t.rad_class END AS rad_class_label,
    CAST(t.buying_power / 100.0 AS numeric(18,2)) AS buying_power,
    CAST(t.sales_12m / 100.0 AS numeric(18,2)) AS sales_12m,
    CAST(t.sales_12m_won / 100.0 AS numeric(18,2)) AS sales_12m_won,
    CAST(t.sales_12m_entered / 100.0 AS numeric(18,2)) AS sales_12m_entered,
    CAST(t.pipeline_open / 100.0 AS numeric(18,2)) AS pipeline_open,
    CAST(t.sow_bp / 100.0 AS numeric(9,2)) AS sow_pct,
    t.credit_grade AS credit_grade,
    CASE t.credit_grade WHEN 'green' THEN '绿名单' WHEN 'yellow' THEN '黄名单' WHEN 'red' THEN '红名单' WHEN 'black' THEN '黑名单' ELSE t.credit_grade END AS credit_grade_label,
    CAST(t.credit_limit / 100.0 AS numeric(18,2)) AS credit_limit,
    t.credit_score AS credit_score,
    CAST(t.last_activity_at AS timestamptz) AS last_activity_at,
    CAST(t.activated_at AS timestamptz) AS activated_at,
    CAST(t.tier_since AS timestamptz) AS tier_since,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM accounts t
LEFT JOIN org_units j1 ON j1.id = t.region_id
LEFT JOIN org_units j2 ON j2.id = t.branch_id
LEFT JOIN users j3 ON j3.id = t.owner_id
LEFT JOIN users j4 ON j4.id = t.inside_owner_id
LEFT JOIN users j5 ON j5.id = t.ka_manager_id
WHERE t.deleted_at IS NULL;
COMMENT ON VIEW reporting.accounts IS '客户（未删除、未被合并的） (accounts, live ones)';
COMMENT ON COLUMN reporting.accounts.id IS '编号 (id)';
COMMENT ON COLUMN reporting.accounts.name IS '客户名称';
COMMENT ON COLUMN reporting.accounts.short_name IS '简称';
COMMENT ON COLUMN reporting.accounts.credit_code IS '统一社会信用代码';
COMMENT ON COLUMN reporting.accounts.industry IS '行业（代码）';
COMMENT ON COLUMN reporting.accounts.industry_label IS '行业（中文名称）';
COMMENT ON COLUMN reporting.accounts.level IS '客户级别（代码）';
COMMENT ON COLUMN reporting.accounts.level_label IS '客户级别（中文名称）';
COMMENT ON COLUMN reporting.accounts.region_id IS '所属大区（组织编号）';
COMMENT ON COLUMN reporting.accounts.region_code IS '所属大区（组织代码）';
COMMENT ON COLUMN reporting.accounts.region_name IS '所属大区（组织名称）';
COMMENT ON COLUMN reporting.accounts.branch_id IS '所属分公司（组织编号）';
COMMENT ON COLUMN reporting.accounts.branch_code IS '所属分公司（组织代码）';
COMMENT ON COLUMN reporting.accounts.branch_name IS '所属分公司（组织名称）';
COMMENT ON COLUMN reporting.accounts.owner_id IS '负责人（外部销售）（用户编号）';
COMMENT ON COLUMN reporting.accounts.owner_name IS '负责人（外部销售）（姓名）';
COMMENT ON COLUMN reporting.accounts.inside_owner_id IS '内部销售负责人（用户编号）';
COMMENT ON COLUMN reporting.accounts.inside_owner_name IS '内部销售负责人（姓名）';
COMMENT ON COLUMN reporting.accounts.ka_manager_id IS '大客户经理（用户编号）';
COMMENT ON COLUMN reporting.accounts.ka_manager_name IS '大客户经理（姓名）';
COMMENT ON COLUMN reporting.accounts.status IS '客户状态（代码）';
COMMENT ON COLUMN reporting.accounts.status_label IS '客户状态（中文名称）';
COMMENT ON COLUMN reporting.accounts.tier IS '客户分级（代码）';
COMMENT ON COLUMN reporting.accounts.tier_label IS '客户分级（中文名称）';
COMMENT ON COLUMN reporting.accounts.tier_score IS '分级得分';
COMMENT ON COLUMN reporting.accounts.rad_class IS 'RAD 分类（代码）';
COMMENT ON COLUMN reporting.accounts.rad_class_label IS 'RAD 分类（中文名称）';
COMMENT ON COLUMN reporting.accounts.buying_power IS '采购力（年采购额）（元）';
COMMENT ON COLUMN reporting.accounts.sales_12m IS '近12个月销售额（元）';
COMMENT ON COLUMN reporting.accounts.sales_12m_won IS '近12个月赢单金额（元）';
COMMENT ON COLUMN reporting.accounts.sales_12m_entered IS '近12个月销售额（录入）（元）';
COMMENT ON COLUMN reporting.accounts.pipeline_open IS '未关闭商机金额（元）';
COMMENT ON COLUMN reporting.accounts.sow_pct IS '份额 SOW（%）';
COMMENT ON COLUMN reporting.accounts.credit_grade IS '信用等级（代码）';
COMMENT ON COLUMN reporting.accounts.credit_grade_label IS '信用等级（中文名称）';
COMMENT ON COLUMN reporting.accounts.credit_limit IS '信用额度（元）';
COMMENT ON COLUMN reporting.accounts.credit_score IS '信用评分';
COMMENT ON COLUMN reporting.accounts.last_activity_at IS '最近一次拜访时间（时间，UTC）';
COMMENT ON COLUMN reporting.accounts.activated_at IS '激活时间（首个商机立项）（时间，UTC）';
COMMENT ON COLUMN reporting.accounts.tier_since IS '取得当前分级的时间（时间，UTC）';
COMMENT ON COLUMN reporting.accounts.created_at IS '创建时间（时间，UTC）';
COMMENT ON COLUMN reporting.accounts.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.contacts AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.name AS name,
    t.gender AS gender,
    CASE t.gender WHEN 'male' THEN '男' WHEN 'female' THEN '女' ELSE t.gender END AS gender_label,
    t.department AS department,
    t.title AS title,
    t.reports_to AS reports_to,
    t.decision_role AS decision_role,
    CASE t.decision_role WHEN 'decision_maker' THEN '决策者' WHEN 'policy_maker' THEN '政策制定者' WHEN 'influencer' THEN '影响者' WHEN 'end_user' THEN '使用者' WHEN 'gatekeeper' THEN '把关者' ELSE t.decision_role END AS decision_role_label,
    t.attitude AS attitude,
    CASE t.attitude WHEN 'supporter' THEN '支持' WHEN 'neutral' THEN '中立' WHEN 'opponent' THEN '反对' ELSE t.attitude END AS attitude_label,
    t.relationship AS relationship,
    CAST(t.last_contact_on AS date) AS last_contact_on,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM contacts t
LEFT JOIN accounts j1 ON j1.id = t.account_id
WHERE t.deleted_at IS NULL;
COMMENT ON VIEW reporting.contacts IS '联系人（未删除的） (contacts)';
COMMENT ON COLUMN reporting.contacts.id IS '编号 (id)';
COMMENT ON COLUMN reporting.contacts.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.contacts.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.contacts.name IS '姓名';
COMMENT ON COLUMN reporting.contacts.gender IS '性别（代码）';
COMMENT ON COLUMN reporting.contacts.gender_label IS '性别（中文名称）';
COMMENT ON COLUMN reporting.contacts.department IS '部门';
COMMENT ON COLUMN reporting.contacts.title IS '职务';
COMMENT ON COLUMN reporting.contacts.reports_to IS '汇报对象（联系人编号）';
COMMENT ON COLUMN reporting.contacts.decision_role IS '采购角色（代码）';
COMMENT ON COLUMN reporting.contacts.decision_role_label IS '采购角色（中文名称）';
COMMENT ON COLUMN reporting.contacts.attitude IS '对我方态度（代码）';
COMMENT ON COLUMN reporting.contacts.attitude_label IS '对我方态度（中文名称）';
COMMENT ON COLUMN reporting.contacts.relationship IS '关系强度（1–5）';
COMMENT ON COLUMN reporting.contacts.last_contact_on IS '最近联系日期（日期）';
COMMENT ON COLUMN reporting.contacts.created_at IS '创建时间（时间，UTC）';
COMMENT ON COLUMN reporting.contacts.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.account_status_changes AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.from_status AS from_status,
    CASE t.from_status WHEN 'prospect' THEN '潜在客户' WHEN 'candidate' THEN '潜在大客户' WHEN 'key_account' THEN '大客户' WHEN 'downgraded' THEN '已降级' ELSE t.from_status END AS from_status_label,
    t.to_status AS to_status,
    CASE t.to_status WHEN 'prospect' THEN '潜在客户' WHEN 'candidate' THEN '潜在大客户' WHEN 'key_account' THEN '大客户' WHEN 'downgraded' THEN '已降级' ELSE t.to_status END AS to_status_label,
    t.reason AS reason,
    t.note AS note,
    t.approval_id AS approval_id,
    t.changed_by AS changed_by,
    j2.display_name AS changed_by_name,
    CAST(t.changed_at AS timestamptz) AS changed_at
FROM account_status_changes t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.username = t.changed_by;
COMMENT ON VIEW reporting.account_status_changes IS '客户状态变更历史（大客户确认、降级等） (account status history)';
COMMENT ON COLUMN reporting.account_status_changes.id IS '编号 (id)';
COMMENT ON COLUMN reporting.account_status_changes.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.account_status_changes.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.account_status_changes.from_status IS '原状态（代码）';
COMMENT ON COLUMN reporting.account_status_changes.from_status_label IS '原状态（中文名称）';
COMMENT ON COLUMN reporting.account_status_changes.to_status IS '新状态（代码）';
COMMENT ON COLUMN reporting.account_status_changes.to_status_label IS '新状态（中文名称）';
COMMENT ON COLUMN reporting.account_status_changes.reason IS '原因代码';
COMMENT ON COLUMN reporting.account_status_changes.note IS '说明';
COMMENT ON COLUMN reporting.account_status_changes.approval_id IS '审批编号';
COMMENT ON COLUMN reporting.account_status_changes.changed_by IS '变更人（用户名）';
COMMENT ON COLUMN reporting.account_status_changes.changed_by_name IS '变更人（姓名）';
COMMENT ON COLUMN reporting.account_status_changes.changed_at IS '变更时间（时间，UTC）';

CREATE VIEW reporting.opportunities AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.name AS name,
    CAST(t.amount / 100.0 AS numeric(18,2)) AS amount,
    t.currency AS currency,
    CAST(t.expected_close AS date) AS expected_close,
    t.stage AS stage,
    CASE t.stage WHEN 'identified' THEN '识别 10%' WHEN 'contacted' THEN '接触 25%' WHEN 'qualified' THEN '拿到资格 50%' WHEN 'developed' THEN '发展 75%' WHEN 'committed' THEN '承诺 90%' WHEN 'won' THEN '赢单 100%' WHEN 'lost' THEN '丢单 0%' ELSE t.stage END AS stage_label,
    t.probability AS probability,
    t.owner_id AS owner_id,
    j2.display_name AS owner_name,
    t.business_unit AS business_unit,
    t.source AS source,
    t.competitors AS competitors,
    t.next_step AS next_step,
    CAST(t.next_step_due AS date) AS next_step_due,
    CAST(t.booked_amount / 100.0 AS numeric(18,2)) AS booked_amount,
    CAST(t.booked_on AS date) AS booked_on,
    t.lost_reason AS lost_reason,
    t.lost_to AS lost_to,
    CAST(t.established_at AS timestamptz) AS established_at,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM opportunities t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.owner_id
WHERE t.deleted_at IS NULL;
COMMENT ON VIEW reporting.opportunities IS '商机（未删除的） (opportunities)';
COMMENT ON COLUMN reporting.opportunities.id IS '编号 (id)';
COMMENT ON COLUMN reporting.opportunities.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.opportunities.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.opportunities.name IS '商机名称';
COMMENT ON COLUMN reporting.opportunities.amount IS '预计金额（元）';
COMMENT ON COLUMN reporting.opportunities.currency IS '币种';
COMMENT ON COLUMN reporting.opportunities.expected_close IS '预计成交日期（日期）';
COMMENT ON COLUMN reporting.opportunities.stage IS '阶段（代码）';
COMMENT ON COLUMN reporting.opportunities.stage_label IS '阶段（中文名称）';
COMMENT ON COLUMN reporting.opportunities.probability IS '赢单概率（%）';
COMMENT ON COLUMN reporting.opportunities.owner_id IS '负责人（用户编号）';
COMMENT ON COLUMN reporting.opportunities.owner_name IS '负责人（姓名）';
COMMENT ON COLUMN reporting.opportunities.business_unit IS '客户业务单元';
COMMENT ON COLUMN reporting.opportunities.source IS '来源';
COMMENT ON COLUMN reporting.opportunities.competitors IS '竞争对手';
COMMENT ON COLUMN reporting.opportunities.next_step IS '下一步';
COMMENT ON COLUMN reporting.opportunities.next_step_due IS '下一步期限（日期）';
COMMENT ON COLUMN reporting.opportunities.booked_amount IS '成交金额（已签订单合计）（元）';
COMMENT ON COLUMN reporting.opportunities.booked_on IS '成交日期（日期）';
COMMENT ON COLUMN reporting.opportunities.lost_reason IS '丢单原因';
COMMENT ON COLUMN reporting.opportunities.lost_to IS '输给';
COMMENT ON COLUMN reporting.opportunities.established_at IS '立项时间（时间，UTC）';
COMMENT ON COLUMN reporting.opportunities.created_at IS '创建时间（时间，UTC）';
COMMENT ON COLUMN reporting.opportunities.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.opportunity_stage_history AS
SELECT
    t.id AS id,
    t.opportunity_id AS opportunity_id,
    CAST(t.at AS timestamptz) AS at,
    t.actor AS actor,
    j1.display_name AS actor_name,
    t.from_stage AS from_stage,
    CASE t.from_stage WHEN 'identified' THEN '识别 10%' WHEN 'contacted' THEN '接触 25%' WHEN 'qualified' THEN '拿到资格 50%' WHEN 'developed' THEN '发展 75%' WHEN 'committed' THEN '承诺 90%' WHEN 'won' THEN '赢单 100%' WHEN 'lost' THEN '丢单 0%' ELSE t.from_stage END AS from_stage_label,
    t.stage AS stage,
    CASE t.stage WHEN 'identified' THEN '识别 10%' WHEN 'contacted' THEN '接触 25%' WHEN 'qualified' THEN '拿到资格 50%' WHEN 'developed' THEN '发展 75%' WHEN 'committed' THEN '承诺 90%' WHEN 'won' THEN '赢单 100%' WHEN 'lost' THEN '丢单 0%' ELSE t.stage END AS stage_label,
    CAST(t.amount / 100.0 AS numeric(18,2)) AS amount,
    CAST(t.expected_close AS date) AS expected_close,
    t.reason AS reason,
    (t.override = 1) AS override
FROM opportunity_history t
LEFT JOIN users j1 ON j1.username = t.actor;
COMMENT ON VIEW reporting.opportunity_stage_history IS '商机阶段历史：每次阶段、金额或预计成交日期的变化 (opportunity stage history)';
COMMENT ON COLUMN reporting.opportunity_stage_history.id IS '编号 (id)';
COMMENT ON COLUMN reporting.opportunity_stage_history.opportunity_id IS '商机编号';
COMMENT ON COLUMN reporting.opportunity_stage_history.at IS '变化时间（时间，UTC）';
COMMENT ON COLUMN reporting.opportunity_stage_history.actor IS '操作人（用户名）';
COMMENT ON COLUMN reporting.opportunity_stage_history.actor_name IS '操作人（姓名）';
COMMENT ON COLUMN reporting.opportunity_stage_history.from_stage IS '原阶段（代码）';
COMMENT ON COLUMN reporting.opportunity_stage_history.from_stage_label IS '原阶段（中文名称）';
COMMENT ON COLUMN reporting.opportunity_stage_history.stage IS '新阶段（代码）';
COMMENT ON COLUMN reporting.opportunity_stage_history.stage_label IS '新阶段（中文名称）';
COMMENT ON COLUMN reporting.opportunity_stage_history.amount IS '当时的预计金额（元）';
COMMENT ON COLUMN reporting.opportunity_stage_history.expected_close IS '当时的预计成交日期（日期）';
COMMENT ON COLUMN reporting.opportunity_stage_history.reason IS '原因';
COMMENT ON COLUMN reporting.opportunity_stage_history.override IS '越过阶段检查（是/否）';

CREATE VIEW reporting.quotas AS
SELECT
    t.id AS id,
    to_date(t.month, 'YYYY-MM') AS month,
    t.user_id AS user_id,
    j1.display_name AS user_name,
    t.org_unit_id AS org_unit_id,
    j2.code AS org_unit_code,
    j2.name AS org_unit_name,
    CAST(t.amount / 100.0 AS numeric(18,2)) AS amount,
    CAST(t.profit / 100.0 AS numeric(18,2)) AS profit,
    t.plan_year AS plan_year,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM quotas t
LEFT JOIN users j1 ON j1.id = t.user_id
LEFT JOIN org_units j2 ON j2.id = t.org_unit_id;
COMMENT ON VIEW reporting.quotas IS '指标：每人或每个组织每月的收入指标 (monthly quotas)';
COMMENT ON COLUMN reporting.quotas.id IS '编号 (id)';
COMMENT ON COLUMN reporting.quotas.month IS '月份（该月第一天）';
COMMENT ON COLUMN reporting.quotas.user_id IS '人员（用户编号）';
COMMENT ON COLUMN reporting.quotas.user_name IS '人员（姓名）';
COMMENT ON COLUMN reporting.quotas.org_unit_id IS '组织（组织编号）';
COMMENT ON COLUMN reporting.quotas.org_unit_code IS '组织（组织代码）';
COMMENT ON COLUMN reporting.quotas.org_unit_name IS '组织（组织名称）';
COMMENT ON COLUMN reporting.quotas.amount IS '收入指标（元）';
COMMENT ON COLUMN reporting.quotas.profit IS '利润指标（元）';
COMMENT ON COLUMN reporting.quotas.plan_year IS '来自的年度销售计划（年份）';
COMMENT ON COLUMN reporting.quotas.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.forecasts AS
SELECT
    t.id AS forecast_id,
    t.user_id AS user_id,
    j1.display_name AS user_name,
    t.week AS week,
    CAST(t.submitted_at AS timestamptz) AS submitted_at,
    l.target_week AS target_week,
    CAST(l.commit_amount / 100.0 AS numeric(18,2)) AS commit_amount,
    CAST(l.best_amount / 100.0 AS numeric(18,2)) AS best_amount
FROM forecast_lines l JOIN forecasts t ON t.id = l.forecast_id
LEFT JOIN users j1 ON j1.id = t.user_id;
COMMENT ON VIEW reporting.forecasts IS '订单预测：每次提交的4周预测的各周金额 (4-week forecasts)';
COMMENT ON COLUMN reporting.forecasts.forecast_id IS '预测编号';
COMMENT ON COLUMN reporting.forecasts.user_id IS '销售人员（用户编号）';
COMMENT ON COLUMN reporting.forecasts.user_name IS '销售人员（姓名）';
COMMENT ON COLUMN reporting.forecasts.week IS '提交所在周';
COMMENT ON COLUMN reporting.forecasts.submitted_at IS '提交时间（时间，UTC）';
COMMENT ON COLUMN reporting.forecasts.target_week IS '预测的周';
COMMENT ON COLUMN reporting.forecasts.commit_amount IS '承诺金额（元）';
COMMENT ON COLUMN reporting.forecasts.best_amount IS '最好情况金额（元）';

CREATE VIEW reporting.sales_months AS
SELECT
    to_date(t.month, 'YYYY-MM') AS month,
    t.region_id AS region_id,
    j1.code AS region_code,
    j1.name AS region_name,
    t.owner_id AS owner_id,
    j2.display_name AS owner_name,
    CAST(t.revenue / 100.0 AS numeric(18,2)) AS revenue,
    CAST(t.profit / 100.0 AS numeric(18,2)) AS profit,
    t.orders AS orders
FROM sales_months t
LEFT JOIN org_units j1 ON j1.id = t.region_id
LEFT JOIN users j2 ON j2.id = t.owner_id;
COMMENT ON VIEW reporting.sales_months IS '每月实际：赢单收入与已签订单利润，按月、大区、负责人 (monthly actuals)';
COMMENT ON COLUMN reporting.sales_months.month IS '月份（该月第一天）';
COMMENT ON COLUMN reporting.sales_months.region_id IS '大区（组织编号）';
COMMENT ON COLUMN reporting.sales_months.region_code IS '大区（组织代码）';
COMMENT ON COLUMN reporting.sales_months.region_name IS '大区（组织名称）';
COMMENT ON COLUMN reporting.sales_months.owner_id IS '负责人（用户编号）';
COMMENT ON COLUMN reporting.sales_months.owner_name IS '负责人（姓名）';
COMMENT ON COLUMN reporting.sales_months.revenue IS '赢单收入（元）';
COMMENT ON COLUMN reporting.sales_months.profit IS '已签订单毛利（元）';
COMMENT ON COLUMN reporting.sales_months.orders IS '已签订单数';

CREATE VIEW reporting.activities AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.opportunity_id AS opportunity_id,
    t.owner_id AS owner_id,
    j2.display_name AS owner_name,
    t.kind AS kind,
    CASE t.kind WHEN 'visit' THEN '上门拜访' WHEN 'phone' THEN '电话' WHEN 'email' THEN '邮件' WHEN 'meeting' THEN '会议' WHEN 'ob_call' THEN '外呼' WHEN 'ib_call' THEN '来电' WHEN 'other' THEN '其他' ELSE t.kind END AS kind_label,
    t.status AS status,
    CASE t.status WHEN 'planned' THEN '计划中' WHEN 'done' THEN '已完成' ELSE t.status END AS status_label,
    CAST(t.planned_at AS timestamptz) AS planned_at,
    CAST(t.occurred_at AS timestamptz) AS occurred_at,
    CAST(t.ends_at AS timestamptz) AS ends_at,
    CAST(t.local_day AS date) AS local_day,
    t.week AS week,
    t.place AS place,
    t.objective AS objective,
    t.summary AS summary,
    t.outcome AS outcome,
    CASE t.outcome WHEN 'opportunity_found' THEN '发现商机' WHEN 'opportunity_advanced' THEN '推进商机' WHEN 'problem_solved' THEN '解决了问题' WHEN 'none' THEN '无明确成果' ELSE t.outcome END AS outcome_label,
    t.customer_attitude AS customer_attitude,
    CASE t.customer_attitude WHEN 'warm' THEN '热情' WHEN 'normal' THEN '一般' WHEN 'cold' THEN '冷淡' ELSE t.customer_attitude END AS customer_attitude_label,
    t.purpose AS purpose,
    CASE t.purpose WHEN 'executive_visit' THEN '高层拜访' WHEN 'technical_exchange' THEN '技术交流' ELSE t.purpose END AS purpose_label,
    (t.effective = 1) AS effective,
    (t.checked_in = 1) AS checked_in,
    CAST(t.follow_up_due AS date) AS follow_up_due,
    t.followed_up_by AS followed_up_by,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM activities t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.owner_id
WHERE t.deleted_at IS NULL;
COMMENT ON VIEW reporting.activities IS '拜访与活动（未删除的） (activities and visits)';
COMMENT ON COLUMN reporting.activities.id IS '编号 (id)';
COMMENT ON COLUMN reporting.activities.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.activities.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.activities.opportunity_id IS '商机编号';
COMMENT ON COLUMN reporting.activities.owner_id IS '负责人（用户编号）';
COMMENT ON COLUMN reporting.activities.owner_name IS '负责人（姓名）';
COMMENT ON COLUMN reporting.activities.kind IS '类型（代码）';
COMMENT ON COLUMN reporting.activities.kind_label IS '类型（中文名称）';
COMMENT ON COLUMN reporting.activities.status IS '状态（代码）';
COMMENT ON COLUMN reporting.activities.status_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.activities.planned_at IS '计划时间（时间，UTC）';
COMMENT ON COLUMN reporting.activities.occurred_at IS '发生时间（时间，UTC）';
COMMENT ON COLUMN reporting.activities.ends_at IS '结束时间（时间，UTC）';
COMMENT ON COLUMN reporting.activities.local_day IS '日期（北京时间）（日期）';
COMMENT ON COLUMN reporting.activities.week IS '周';
COMMENT ON COLUMN reporting.activities.place IS '地点';
COMMENT ON COLUMN reporting.activities.objective IS '目的';
COMMENT ON COLUMN reporting.activities.summary IS '总结';
COMMENT ON COLUMN reporting.activities.outcome IS '成果（代码）';
COMMENT ON COLUMN reporting.activities.outcome_label IS '成果（中文名称）';
COMMENT ON COLUMN reporting.activities.customer_attitude IS '客户态度（代码）';
COMMENT ON COLUMN reporting.activities.customer_attitude_label IS '客户态度（中文名称）';
COMMENT ON COLUMN reporting.activities.purpose IS '服务标准用途（代码）';
COMMENT ON COLUMN reporting.activities.purpose_label IS '服务标准用途（中文名称）';
COMMENT ON COLUMN reporting.activities.effective IS '有效拜访（是/否）';
COMMENT ON COLUMN reporting.activities.checked_in IS '已签到（是/否）';
COMMENT ON COLUMN reporting.activities.follow_up_due IS '跟进期限（日期）';
COMMENT ON COLUMN reporting.activities.followed_up_by IS '跟进的活动编号';
COMMENT ON COLUMN reporting.activities.created_at IS '创建时间（时间，UTC）';
COMMENT ON COLUMN reporting.activities.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.visit_plans AS
SELECT
    t.id AS id,
    t.owner_id AS owner_id,
    j1.display_name AS owner_name,
    t.week AS week,
    t.status AS status,
    CASE t.status WHEN 'submitted' THEN '已提交' ELSE t.status END AS status_label,
    t.note AS note,
    CAST(t.submitted_at AS timestamptz) AS submitted_at
FROM visit_plans t
LEFT JOIN users j1 ON j1.id = t.owner_id;
COMMENT ON VIEW reporting.visit_plans IS '周拜访计划（已提交的） (weekly visit plans)';
COMMENT ON COLUMN reporting.visit_plans.id IS '编号 (id)';
COMMENT ON COLUMN reporting.visit_plans.owner_id IS '负责人（用户编号）';
COMMENT ON COLUMN reporting.visit_plans.owner_name IS '负责人（姓名）';
COMMENT ON COLUMN reporting.visit_plans.week IS '周';
COMMENT ON COLUMN reporting.visit_plans.status IS '状态（代码）';
COMMENT ON COLUMN reporting.visit_plans.status_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.visit_plans.note IS '说明';
COMMENT ON COLUMN reporting.visit_plans.submitted_at IS '提交时间（时间，UTC）';

CREATE VIEW reporting.approvals AS
SELECT
    t.id AS id,
    t.flow AS flow,
    CASE t.flow WHEN 'ka_screening' THEN '大客户确认' WHEN 'bid_exception' THEN '超权限投标' WHEN 'discount_exception' THEN '超权限折扣' WHEN 'credit_change' THEN '信用等级变更' WHEN 'service_request' THEN '服务申请' WHEN 'suggestion' THEN '客户建议处理' WHEN 'annual_plan' THEN '年度销售计划' WHEN 'budget_exception' THEN '预算外费用' WHEN 'account_plan' THEN '客户规划' WHEN 'negotiation_escalation' THEN '商务谈判授权升级' WHEN 'order_signoff' THEN '订货单签核' WHEN 'bad_debt_writeoff' THEN '坏账核销' WHEN 'ka_downgrade' THEN '大客户降级' WHEN 'service_evaluation' THEN '服务评估' WHEN 'budget_plan' THEN '年度预算' WHEN 'exec_resource' THEN '高层资源支持申请' ELSE t.flow END AS flow_label,
    t.flow_version AS flow_version,
    t.subject_type AS subject_type,
    t.subject_id AS subject_id,
    t.subject_label AS subject_label,
    t.region_id AS region_id,
    j1.code AS region_code,
    j1.name AS region_name,
    t.branch_id AS branch_id,
    j2.code AS branch_code,
    j2.name AS branch_name,
    t.subject_owner_id AS subject_owner_id,
    j3.display_name AS subject_owner_name,
    t.requested_by AS requested_by,
    j4.display_name AS requested_by_name,
    t.state AS state,
    CASE t.state WHEN 'pending' THEN '审批中' WHEN 'approved' THEN '已批准' WHEN 'rejected' THEN '已驳回' WHEN 'returned' THEN '已退回修改' WHEN 'cancelled' THEN '已取消' ELSE t.state END AS state_label,
    t.current_step AS current_step,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at,
    CAST(t.closed_at AS timestamptz) AS closed_at,
    CAST(t.deadline_cap AS timestamptz) AS deadline_cap
FROM approvals t
LEFT JOIN org_units j1 ON j1.id = t.region_id
LEFT JOIN org_units j2 ON j2.id = t.branch_id
LEFT JOIN users j3 ON j3.id = t.subject_owner_id
LEFT JOIN users j4 ON j4.id = t.requested_by;
COMMENT ON VIEW reporting.approvals IS '审批申请 (approval requests)';
COMMENT ON COLUMN reporting.approvals.id IS '编号 (id)';
COMMENT ON COLUMN reporting.approvals.flow IS '流程（代码）';
COMMENT ON COLUMN reporting.approvals.flow_label IS '流程（中文名称）';
COMMENT ON COLUMN reporting.approvals.flow_version IS '流程版本';
COMMENT ON COLUMN reporting.approvals.subject_type IS '审批对象类型';
COMMENT ON COLUMN reporting.approvals.subject_id IS '审批对象编号';
COMMENT ON COLUMN reporting.approvals.subject_label IS '审批对象';
COMMENT ON COLUMN reporting.approvals.region_id IS '大区（组织编号）';
COMMENT ON COLUMN reporting.approvals.region_code IS '大区（组织代码）';
COMMENT ON COLUMN reporting.approvals.region_name IS '大区（组织名称）';
COMMENT ON COLUMN reporting.approvals.branch_id IS '分公司（组织编号）';
COMMENT ON COLUMN reporting.approvals.branch_code IS '分公司（组织代码）';
COMMENT ON COLUMN reporting.approvals.branch_name IS '分公司（组织名称）';
COMMENT ON COLUMN reporting.approvals.subject_owner_id IS '对象负责人（用户编号）';
COMMENT ON COLUMN reporting.approvals.subject_owner_name IS '对象负责人（姓名）';
COMMENT ON COLUMN reporting.approvals.requested_by IS '申请人（用户编号）';
COMMENT ON COLUMN reporting.approvals.requested_by_name IS '申请人（姓名）';
COMMENT ON COLUMN reporting.approvals.state IS '状态（代码）';
COMMENT ON COLUMN reporting.approvals.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.approvals.current_step IS '当前步骤';
COMMENT ON COLUMN reporting.approvals.created_at IS '发起时间（时间，UTC）';
COMMENT ON COLUMN reporting.approvals.updated_at IS '最后修改时间（时间，UTC）';
COMMENT ON COLUMN reporting.approvals.closed_at IS '结束时间（时间，UTC）';
COMMENT ON COLUMN reporting.approvals.deadline_cap IS '总时限（时间，UTC）';

CREATE VIEW reporting.approval_steps AS
SELECT
    t.id AS id,
    t.approval_id AS approval_id,
    t.position AS position,
    t.grp AS grp,
    t.role AS role,
    CASE t.role WHEN 'admin' THEN '系统管理员' WHEN 'gm' THEN '总经理' WHEN 'marketing_director' THEN '营销总监' WHEN 'sales_dept_manager' THEN '销售部经理' WHEN 'ka_director' THEN '大客户销售主管' WHEN 'ka_manager' THEN '大客户销售经理' WHEN 'ka_rep' THEN '大客户销售代表' WHEN 'inside_sales' THEN '内部销售' WHEN 'branch_manager' THEN '分公司经理' WHEN 'commercial_manager' THEN '商务经理' WHEN 'finance_manager' THEN '财务经理' WHEN 'logistics_manager' THEN '物流经理' WHEN 'marketing' THEN '市场部' ELSE t.role END AS role_label,
    t.scope AS scope,
    CASE t.scope WHEN 'hq' THEN '总部' WHEN 'region' THEN '所属区域' WHEN 'owner_manager' THEN '负责人的上级' WHEN 'branch' THEN '客户所属分公司（无分公司时为大区）' WHEN 'region_ka' THEN '大区大客户部（客户所在大区的大客户经理；为申请人本人时由大区负责人）' ELSE t.scope END AS scope_label,
    t.days AS days,
    t.state AS state,
    CASE t.state WHEN 'waiting' THEN '未开始' WHEN 'skipped' THEN '不适用（未达阈值）' WHEN 'open' THEN '审批中' WHEN 'approved' THEN '已批准' WHEN 'rejected' THEN '已驳回' WHEN 'returned' THEN '已退回' WHEN 'cancelled' THEN '已取消' ELSE t.state END AS state_label,
    CAST(t.opened_at AS timestamptz) AS opened_at,
    CAST(t.due_at AS timestamptz) AS due_at,
    t.decided_by AS decided_by,
    j1.display_name AS decided_by_name,
    t.decided_as AS decided_as,
    CAST(t.decided_at AS timestamptz) AS decided_at,
    t.decision AS decision,
    CASE t.decision WHEN 'approve' THEN '批准' WHEN 'reject' THEN '驳回' WHEN 'return' THEN '退回修改' ELSE t.decision END AS decision_label,
    t.comment AS comment,
    CAST(t.escalated_at AS timestamptz) AS escalated_at,
    t.escalated_to AS escalated_to,
    j2.display_name AS escalated_to_name,
    t.extended_by AS extended_by,
    j3.display_name AS extended_by_name,
    t.extended_days AS extended_days
FROM approval_steps t
LEFT JOIN users j1 ON j1.id = t.decided_by
LEFT JOIN users j2 ON j2.id = t.escalated_to
LEFT JOIN users j3 ON j3.id = t.extended_by;
COMMENT ON VIEW reporting.approval_steps IS '审批步骤 (approval steps)';
COMMENT ON COLUMN reporting.approval_steps.id IS '编号 (id)';
COMMENT ON COLUMN reporting.approval_steps.approval_id IS '审批编号';
COMMENT ON COLUMN reporting.approval_steps.position IS '步骤序号';
COMMENT ON COLUMN reporting.approval_steps.grp IS '并行组';
COMMENT ON COLUMN reporting.approval_steps.role IS '审批角色（代码）';
COMMENT ON COLUMN reporting.approval_steps.role_label IS '审批角色（中文名称）';
COMMENT ON COLUMN reporting.approval_steps.scope IS '范围（代码）';
COMMENT ON COLUMN reporting.approval_steps.scope_label IS '范围（中文名称）';
COMMENT ON COLUMN reporting.approval_steps.days IS '期限（天）';
COMMENT ON COLUMN reporting.approval_steps.state IS '状态（代码）';
COMMENT ON COLUMN reporting.approval_steps.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.approval_steps.opened_at IS '开始时间（时间，UTC）';
COMMENT ON COLUMN reporting.approval_steps.due_at IS '到期时间（时间，UTC）';
COMMENT ON COLUMN reporting.approval_steps.decided_by IS '审批人（用户编号）';
COMMENT ON COLUMN reporting.approval_steps.decided_by_name IS '审批人（姓名）';
COMMENT ON COLUMN reporting.approval_steps.decided_as IS '以何身份审批';
COMMENT ON COLUMN reporting.approval_steps.decided_at IS '审批时间（时间，UTC）';
COMMENT ON COLUMN reporting.approval_steps.decision IS '决定（代码）';
COMMENT ON COLUMN reporting.approval_steps.decision_label IS '决定（中文名称）';
COMMENT ON COLUMN reporting.approval_steps.comment IS '意见';
COMMENT ON COLUMN reporting.approval_steps.escalated_at IS '升级时间（时间，UTC）';
COMMENT ON COLUMN reporting.approval_steps.escalated_to IS '升级给（用户编号）';
COMMENT ON COLUMN reporting.approval_steps.escalated_to_name IS '升级给（姓名）';
COMMENT ON COLUMN reporting.approval_steps.extended_by IS '延期人（用户编号）';
COMMENT ON COLUMN reporting.approval_steps.extended_by_name IS '延期人（姓名）';
COMMENT ON COLUMN reporting.approval_steps.extended_days IS '延期后天数';

CREATE VIEW reporting.products AS
SELECT
    t.id AS id,
    t.code AS code,
    t.name AS name,
    t.category AS category,
    t.specification AS specification,
    t.unit AS unit,
    CAST(t.list_price / 100.0 AS numeric(18,2)) AS list_price,
    CAST(t.floor_price / 100.0 AS numeric(18,2)) AS floor_price,
    CAST(t.tax_rate_bp / 100.0 AS numeric(9,2)) AS tax_rate_pct,
    CAST(t.standard_cost / 100.0 AS numeric(18,2)) AS standard_cost,
    (t.active = 1) AS active,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM products t;
COMMENT ON VIEW reporting.products IS '产品目录 (products)';
COMMENT ON COLUMN reporting.products.id IS '编号 (id)';
COMMENT ON COLUMN reporting.products.code IS '产品代码';
COMMENT ON COLUMN reporting.products.name IS '产品名称';
COMMENT ON COLUMN reporting.products.category IS '类别';
COMMENT ON COLUMN reporting.products.specification IS '规格';
COMMENT ON COLUMN reporting.products.unit IS '单位';
COMMENT ON COLUMN reporting.products.list_price IS '目录价（含税）（元）';
COMMENT ON COLUMN reporting.products.floor_price IS '底价（元）';
COMMENT ON COLUMN reporting.products.tax_rate_pct IS '增值税率（%）';
COMMENT ON COLUMN reporting.products.standard_cost IS '标准成本（元）';
COMMENT ON COLUMN reporting.products.active IS '启用（是/否）';
COMMENT ON COLUMN reporting.products.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.quotes AS
SELECT
    t.id AS id,
    t.number AS number,
    t.opportunity_id AS opportunity_id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.owner_id AS owner_id,
    j2.display_name AS owner_name,
    t.title AS title,
    t.current_version AS current_version,
    t.state AS state,
    CASE t.state WHEN 'draft' THEN '草稿' WHEN 'pending' THEN '待审批' WHEN 'approved' THEN '已批准' WHEN 'sent' THEN '已发送' WHEN 'accepted' THEN '客户已接受' WHEN 'lost' THEN '已丢失' WHEN 'expired' THEN '已过期' WHEN 'superseded' THEN '已被新版本取代' ELSE t.state END AS state_label,
    CAST(t.quote_date AS date) AS quote_date,
    CAST(t.valid_until AS date) AS valid_until,
    CAST(t.total / 100.0 AS numeric(18,2)) AS total,
    CAST(t.discount_bp / 100.0 AS numeric(9,2)) AS discount_pct,
    (t.below_floor = 1) AS below_floor,
    t.line_count AS line_count,
    (t.is_current = 1) AS is_current,
    t.lost_reason AS lost_reason,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM quotes t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.owner_id;
COMMENT ON VIEW reporting.quotes IS '报价（当前版本的概要） (quotes)';
COMMENT ON COLUMN reporting.quotes.id IS '编号 (id)';
COMMENT ON COLUMN reporting.quotes.number IS '报价编号';
COMMENT ON COLUMN reporting.quotes.opportunity_id IS '商机编号';
COMMENT ON COLUMN reporting.quotes.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.quotes.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.quotes.owner_id IS '负责人（用户编号）';
COMMENT ON COLUMN reporting.quotes.owner_name IS '负责人（姓名）';
COMMENT ON COLUMN reporting.quotes.title IS '标题';
COMMENT ON COLUMN reporting.quotes.current_version IS '当前版本号';
COMMENT ON COLUMN reporting.quotes.state IS '状态（代码）';
COMMENT ON COLUMN reporting.quotes.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.quotes.quote_date IS '报价日期（日期）';
COMMENT ON COLUMN reporting.quotes.valid_until IS '有效期至（日期）';
COMMENT ON COLUMN reporting.quotes.total IS '总价（含税）（元）';
COMMENT ON COLUMN reporting.quotes.discount_pct IS '折扣（%）';
COMMENT ON COLUMN reporting.quotes.below_floor IS '低于底价（是/否）';
COMMENT ON COLUMN reporting.quotes.line_count IS '行数';
COMMENT ON COLUMN reporting.quotes.is_current IS '商机的当前报价（是/否）';
COMMENT ON COLUMN reporting.quotes.lost_reason IS '丢失原因';
COMMENT ON COLUMN reporting.quotes.created_at IS '创建时间（时间，UTC）';
COMMENT ON COLUMN reporting.quotes.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.quote_lines AS
SELECT
    l.id AS id,
    t.quote_id AS quote_id,
    t.version_no AS version_no,
    t.state AS version_state,
    CASE t.state WHEN 'draft' THEN '草稿' WHEN 'pending' THEN '待审批' WHEN 'approved' THEN '已批准' WHEN 'sent' THEN '已发送' WHEN 'accepted' THEN '客户已接受' WHEN 'lost' THEN '已丢失' WHEN 'expired' THEN '已过期' WHEN 'superseded' THEN '已被新版本取代' ELSE t.state END AS version_state_label,
    l.position AS position,
    l.product_id AS product_id,
    l.product_code AS product_code,
    l.description AS description,
    l.unit AS unit,
    CAST(l.quantity / 1000.0 AS numeric(18,3)) AS quantity,
    CAST(l.list_price / 100.0 AS numeric(18,2)) AS list_price,
    CAST(l.unit_price / 100.0 AS numeric(18,2)) AS unit_price,
    CAST(l.discount_bp / 100.0 AS numeric(9,2)) AS discount_pct,
    CAST(l.amount / 100.0 AS numeric(18,2)) AS amount,
    CAST(l.amount_excl / 100.0 AS numeric(18,2)) AS amount_excl,
    CAST(l.tax / 100.0 AS numeric(18,2)) AS tax,
    (l.below_floor = 1) AS below_floor
FROM quote_lines l JOIN quote_versions t ON t.id = l.version_id;
COMMENT ON VIEW reporting.quote_lines IS '报价行（每个版本的） (quote lines of every version)';
COMMENT ON COLUMN reporting.quote_lines.id IS '报价行编号';
COMMENT ON COLUMN reporting.quote_lines.quote_id IS '报价编号';
COMMENT ON COLUMN reporting.quote_lines.version_no IS '版本号';
COMMENT ON COLUMN reporting.quote_lines.version_state IS '该版本状态（代码）';
COMMENT ON COLUMN reporting.quote_lines.version_state_label IS '该版本状态（中文名称）';
COMMENT ON COLUMN reporting.quote_lines.position IS '行号';
COMMENT ON COLUMN reporting.quote_lines.product_id IS '产品编号';
COMMENT ON COLUMN reporting.quote_lines.product_code IS '产品代码';
COMMENT ON COLUMN reporting.quote_lines.description IS '品名';
COMMENT ON COLUMN reporting.quote_lines.unit IS '单位';
COMMENT ON COLUMN reporting.quote_lines.quantity IS '数量';
COMMENT ON COLUMN reporting.quote_lines.list_price IS '目录价（元）';
COMMENT ON COLUMN reporting.quote_lines.unit_price IS '单价（含税）（元）';
COMMENT ON COLUMN reporting.quote_lines.discount_pct IS '折扣（%）';
COMMENT ON COLUMN reporting.quote_lines.amount IS '金额（含税）（元）';
COMMENT ON COLUMN reporting.quote_lines.amount_excl IS '金额（不含税）（元）';
COMMENT ON COLUMN reporting.quote_lines.tax IS '税额（元）';
COMMENT ON COLUMN reporting.quote_lines.below_floor IS '低于底价（是/否）';

CREATE VIEW reporting.bids AS
SELECT
    t.id AS id,
    t.opportunity_id AS opportunity_id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.owner_id AS owner_id,
    j2.display_name AS owner_name,
    t.issuer AS issuer,
    t.tender_no AS tender_no,
    CAST(t.submission_due AS timestamptz) AS submission_due,
    CAST(t.bond_amount / 100.0 AS numeric(18,2)) AS bond_amount,
    t.decision AS decision,
    CASE t.decision WHEN 'pending' THEN '未决策' WHEN 'bid' THEN '投标' WHEN 'no_bid' THEN '不投标' ELSE t.decision END AS decision_label,
    CAST(t.bid_price / 100.0 AS numeric(18,2)) AS bid_price,
    (t.below_floor = 1) AS below_floor,
    (t.terms_outside_policy = 1) AS terms_outside_policy,
    (t.bond_above_limit = 1) AS bond_above_limit,
    t.exception_state AS exception_state,
    CASE t.exception_state WHEN 'none' THEN '权限内' WHEN 'pending' THEN '特殊审批中' WHEN 'approved' THEN '特殊审批已批准' WHEN 'rejected' THEN '特殊审批被驳回' WHEN 'returned' THEN '特殊审批被退回' WHEN 'cancelled' THEN '特殊审批已撤销' ELSE t.exception_state END AS exception_state_label,
    t.result AS result,
    CASE t.result WHEN 'won' THEN '中标' WHEN 'lost' THEN '未中标' WHEN 'abandoned' THEN '放弃/流标' ELSE t.result END AS result_label,
    t.winner AS winner,
    CAST(t.winning_price / 100.0 AS numeric(18,2)) AS winning_price,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM bids t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.owner_id;
COMMENT ON VIEW reporting.bids IS '投标 (tenders)';
COMMENT ON COLUMN reporting.bids.id IS '编号 (id)';
COMMENT ON COLUMN reporting.bids.opportunity_id IS '商机编号';
COMMENT ON COLUMN reporting.bids.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.bids.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.bids.owner_id IS '负责人（用户编号）';
COMMENT ON COLUMN reporting.bids.owner_name IS '负责人（姓名）';
COMMENT ON COLUMN reporting.bids.issuer IS '招标方';
COMMENT ON COLUMN reporting.bids.tender_no IS '招标编号';
COMMENT ON COLUMN reporting.bids.submission_due IS '投标截止（时间，UTC）';
COMMENT ON COLUMN reporting.bids.bond_amount IS '保证金（元）';
COMMENT ON COLUMN reporting.bids.decision IS '投标决策（代码）';
COMMENT ON COLUMN reporting.bids.decision_label IS '投标决策（中文名称）';
COMMENT ON COLUMN reporting.bids.bid_price IS '投标价（元）';
COMMENT ON COLUMN reporting.bids.below_floor IS '低于底价（是/否）';
COMMENT ON COLUMN reporting.bids.terms_outside_policy IS '条款超出政策（是/否）';
COMMENT ON COLUMN reporting.bids.bond_above_limit IS '保证金超限（是/否）';
COMMENT ON COLUMN reporting.bids.exception_state IS '特殊审批（代码）';
COMMENT ON COLUMN reporting.bids.exception_state_label IS '特殊审批（中文名称）';
COMMENT ON COLUMN reporting.bids.result IS '结果（代码）';
COMMENT ON COLUMN reporting.bids.result_label IS '结果（中文名称）';
COMMENT ON COLUMN reporting.bids.winner IS '中标方';
COMMENT ON COLUMN reporting.bids.winning_price IS '中标价（元）';
COMMENT ON COLUMN reporting.bids.created_at IS '创建时间（时间，UTC）';
COMMENT ON COLUMN reporting.bids.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.negotiation_rounds AS
SELECT
    t.id AS id,
    t.opportunity_id AS opportunity_id,
    t.account_id AS account_id,
    j1.name AS account_name,
    CAST(t.held_on AS date) AS held_on,
    t.participants AS participants,
    CAST(t.asked_discount_bp / 100.0 AS numeric(9,2)) AS asked_discount_pct,
    t.approval_id AS approval_id,
    t.outcome AS outcome,
    CASE t.outcome WHEN 'pending' THEN '审批中' WHEN 'approved' THEN '已批准' WHEN 'rejected' THEN '已驳回' WHEN 'returned' THEN '已退回修改' WHEN 'cancelled' THEN '已取消' ELSE t.outcome END AS outcome_label,
    CAST(t.created_at AS timestamptz) AS created_at
FROM negotiation_rounds t
LEFT JOIN accounts j1 ON j1.id = t.account_id;
COMMENT ON VIEW reporting.negotiation_rounds IS '商务谈判轮次 (negotiation rounds)';
COMMENT ON COLUMN reporting.negotiation_rounds.id IS '编号 (id)';
COMMENT ON COLUMN reporting.negotiation_rounds.opportunity_id IS '商机编号';
COMMENT ON COLUMN reporting.negotiation_rounds.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.negotiation_rounds.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.negotiation_rounds.held_on IS '谈判日期（日期）';
COMMENT ON COLUMN reporting.negotiation_rounds.participants IS '参加人';
COMMENT ON COLUMN reporting.negotiation_rounds.asked_discount_pct IS '客户要求的折扣（%）';
COMMENT ON COLUMN reporting.negotiation_rounds.approval_id IS '升级审批编号';
COMMENT ON COLUMN reporting.negotiation_rounds.outcome IS '升级结果（代码）';
COMMENT ON COLUMN reporting.negotiation_rounds.outcome_label IS '升级结果（中文名称）';
COMMENT ON COLUMN reporting.negotiation_rounds.created_at IS '创建时间（时间，UTC）';

CREATE VIEW reporting.orders AS
SELECT
    t.id AS id,
    t.number AS number,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.opportunity_id AS opportunity_id,
    t.quote_id AS quote_id,
    t.owner_id AS owner_id,
    j2.display_name AS owner_name,
    t.contract_no AS contract_no,
    CAST(t.requested_delivery AS date) AS requested_delivery,
    t.current_version AS current_version,
    t.state AS state,
    CASE t.state WHEN 'draft' THEN '草稿' WHEN 'pending' THEN '签核中' WHEN 'signed' THEN '已签核' WHEN 'cancelled' THEN '已取消' ELSE t.state END AS state_label,
    CAST(t.total / 100.0 AS numeric(18,2)) AS total,
    t.line_count AS line_count,
    t.signed_version AS signed_version,
    CAST(t.signed_total / 100.0 AS numeric(18,2)) AS signed_total,
    CAST(t.signed_at AS timestamptz) AS signed_at,
    t.cancel_reason AS cancel_reason,
    CAST(t.imported_at AS timestamptz) AS imported_at,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM orders t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.owner_id;
COMMENT ON VIEW reporting.orders IS '订货单 (orders)';
COMMENT ON COLUMN reporting.orders.id IS '编号 (id)';
COMMENT ON COLUMN reporting.orders.number IS '订单编号';
COMMENT ON COLUMN reporting.orders.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.orders.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.orders.opportunity_id IS '商机编号';
COMMENT ON COLUMN reporting.orders.quote_id IS '报价编号';
COMMENT ON COLUMN reporting.orders.owner_id IS '负责人（用户编号）';
COMMENT ON COLUMN reporting.orders.owner_name IS '负责人（姓名）';
COMMENT ON COLUMN reporting.orders.contract_no IS '合同号';
COMMENT ON COLUMN reporting.orders.requested_delivery IS '要求交货日期（日期）';
COMMENT ON COLUMN reporting.orders.current_version IS '当前版本号';
COMMENT ON COLUMN reporting.orders.state IS '状态（代码）';
COMMENT ON COLUMN reporting.orders.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.orders.total IS '总价（含税）（元）';
COMMENT ON COLUMN reporting.orders.line_count IS '行数';
COMMENT ON COLUMN reporting.orders.signed_version IS '已签核版本号';
COMMENT ON COLUMN reporting.orders.signed_total IS '已签核总价（元）';
COMMENT ON COLUMN reporting.orders.signed_at IS '签核时间（时间，UTC）';
COMMENT ON COLUMN reporting.orders.cancel_reason IS '取消原因';
COMMENT ON COLUMN reporting.orders.imported_at IS '期初导入时间（时间，UTC）';
COMMENT ON COLUMN reporting.orders.created_at IS '创建时间（时间，UTC）';
COMMENT ON COLUMN reporting.orders.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.order_lines AS
SELECT
    l.id AS id,
    t.order_id AS order_id,
    t.version_no AS version_no,
    t.state AS version_state,
    CASE t.state WHEN 'draft' THEN '草稿' WHEN 'pending' THEN '签核中' WHEN 'signed' THEN '已签核' WHEN 'cancelled' THEN '已取消' WHEN 'superseded' THEN '已被新版本取代' ELSE t.state END AS version_state_label,
    (t.version_no = o.signed_version) AS is_signed_version,
    l.position AS position,
    l.product_id AS product_id,
    l.product_code AS product_code,
    l.description AS description,
    l.unit AS unit,
    CAST(l.quantity / 1000.0 AS numeric(18,3)) AS quantity,
    CAST(l.unit_price / 100.0 AS numeric(18,2)) AS unit_price,
    CAST(l.discount_bp / 100.0 AS numeric(9,2)) AS discount_pct,
    CAST(l.amount / 100.0 AS numeric(18,2)) AS amount,
    CAST(l.amount_excl / 100.0 AS numeric(18,2)) AS amount_excl,
    CAST(l.tax / 100.0 AS numeric(18,2)) AS tax,
    CAST(l.cost / 100.0 AS numeric(18,2)) AS cost
FROM order_lines l JOIN order_versions t ON t.id = l.version_id JOIN orders o ON o.id = t.order_id;
COMMENT ON VIEW reporting.order_lines IS '订单行（每个版本的；签核版本见 is_signed_version） (order lines of every version)';
COMMENT ON COLUMN reporting.order_lines.id IS '订单行编号';
COMMENT ON COLUMN reporting.order_lines.order_id IS '订单编号';
COMMENT ON COLUMN reporting.order_lines.version_no IS '版本号';
COMMENT ON COLUMN reporting.order_lines.version_state IS '该版本状态（代码）';
COMMENT ON COLUMN reporting.order_lines.version_state_label IS '该版本状态（中文名称）';
COMMENT ON COLUMN reporting.order_lines.is_signed_version IS '是否为已签核版本（是/否）';
COMMENT ON COLUMN reporting.order_lines.position IS '行号';
COMMENT ON COLUMN reporting.order_lines.product_id IS '产品编号';
COMMENT ON COLUMN reporting.order_lines.product_code IS '产品代码';
COMMENT ON COLUMN reporting.order_lines.description IS '品名';
COMMENT ON COLUMN reporting.order_lines.unit IS '单位';
COMMENT ON COLUMN reporting.order_lines.quantity IS '数量';
COMMENT ON COLUMN reporting.order_lines.unit_price IS '单价（含税）（元）';
COMMENT ON COLUMN reporting.order_lines.discount_pct IS '折扣（%）';
COMMENT ON COLUMN reporting.order_lines.amount IS '金额（含税）（元）';
COMMENT ON COLUMN reporting.order_lines.amount_excl IS '金额（不含税）（元）';
COMMENT ON COLUMN reporting.order_lines.tax IS '税额（元）';
COMMENT ON COLUMN reporting.order_lines.cost IS '成本（元）';

CREATE VIEW reporting.deliveries AS
SELECT
    t.id AS id,
    t.number AS number,
    t.order_id AS order_id,
    t.order_version AS order_version,
    t.state AS state,
    CASE t.state WHEN 'prepared' THEN '已备货' WHEN 'shipped' THEN '已发货' WHEN 'delivered' THEN '已到货' WHEN 'accepted' THEN '已验收' WHEN 'cancelled' THEN '已取消' ELSE t.state END AS state_label,
    t.carrier AS carrier,
    t.waybill AS waybill,
    CAST(t.shipped_on AS date) AS shipped_on,
    CAST(t.delivered_on AS date) AS delivered_on,
    CAST(t.accepted_on AS date) AS accepted_on,
    t.cancel_reason AS cancel_reason,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM outbounds t;
COMMENT ON VIEW reporting.deliveries IS '出库单：发货、到货、验收 (outbounds / deliveries)';
COMMENT ON COLUMN reporting.deliveries.id IS '编号 (id)';
COMMENT ON COLUMN reporting.deliveries.number IS '出库单号';
COMMENT ON COLUMN reporting.deliveries.order_id IS '订单编号';
COMMENT ON COLUMN reporting.deliveries.order_version IS '订单版本';
COMMENT ON COLUMN reporting.deliveries.state IS '状态（代码）';
COMMENT ON COLUMN reporting.deliveries.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.deliveries.carrier IS '承运商';
COMMENT ON COLUMN reporting.deliveries.waybill IS '运单号';
COMMENT ON COLUMN reporting.deliveries.shipped_on IS '发货日期（日期）';
COMMENT ON COLUMN reporting.deliveries.delivered_on IS '到货日期（日期）';
COMMENT ON COLUMN reporting.deliveries.accepted_on IS '验收日期（日期）';
COMMENT ON COLUMN reporting.deliveries.cancel_reason IS '取消原因';
COMMENT ON COLUMN reporting.deliveries.created_at IS '创建时间（时间，UTC）';
COMMENT ON COLUMN reporting.deliveries.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.invoices AS
SELECT
    t.id AS id,
    t.number AS number,
    t.order_id AS order_id,
    t.account_id AS account_id,
    j1.name AS account_name,
    CAST(t.issued_on AS date) AS issued_on,
    CAST(t.amount / 100.0 AS numeric(18,2)) AS amount,
    CAST(t.tax / 100.0 AS numeric(18,2)) AS tax,
    t.reverses_id AS reverses_id,
    t.return_id AS return_id,
    CAST(t.created_at AS timestamptz) AS created_at
FROM invoices t
LEFT JOIN accounts j1 ON j1.id = t.account_id;
COMMENT ON VIEW reporting.invoices IS '发票（红字发票金额为负） (invoices; red-letter ones negative)';
COMMENT ON COLUMN reporting.invoices.id IS '编号 (id)';
COMMENT ON COLUMN reporting.invoices.number IS '发票号';
COMMENT ON COLUMN reporting.invoices.order_id IS '订单编号';
COMMENT ON COLUMN reporting.invoices.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.invoices.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.invoices.issued_on IS '开票日期（日期）';
COMMENT ON COLUMN reporting.invoices.amount IS '金额（含税）（元）';
COMMENT ON COLUMN reporting.invoices.tax IS '税额（元）';
COMMENT ON COLUMN reporting.invoices.reverses_id IS '冲销的发票编号';
COMMENT ON COLUMN reporting.invoices.return_id IS '退货编号';
COMMENT ON COLUMN reporting.invoices.created_at IS '登记时间（时间，UTC）';

CREATE VIEW reporting.receivables AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.order_id AS order_id,
    t.owner_id AS owner_id,
    j2.display_name AS owner_name,
    t.position AS position,
    t.kind AS kind,
    CASE t.kind WHEN 'advance' THEN '预付款' WHEN 'on_delivery' THEN '到货款' WHEN 'after_acceptance' THEN '验收款' WHEN 'retention' THEN '质保金' ELSE t.kind END AS kind_label,
    t.event AS event,
    CASE t.event WHEN 'invoice' THEN '开票后' WHEN 'delivery' THEN '交货后' WHEN 'acceptance' THEN '验收后' WHEN 'order' THEN '下单后' ELSE t.event END AS event_label,
    t.days AS days,
    CAST(t.amount / 100.0 AS numeric(18,2)) AS amount,
    CAST(t.event_on AS date) AS event_on,
    CAST(t.due_on AS date) AS due_on,
    CAST(t.paid / 100.0 AS numeric(18,2)) AS paid,
    CAST(t.written_off / 100.0 AS numeric(18,2)) AS written_off,
    CAST(t.credited / 100.0 AS numeric(18,2)) AS credited,
    CAST((t.amount - t.paid - t.written_off) / 100.0 AS numeric(18,2)) AS outstanding,
    CAST(t.paid_in_full_on AS date) AS paid_in_full_on,
    t.state AS state,
    CASE t.state WHEN 'scheduled' THEN '未到期（待触发）' WHEN 'open' THEN '应收' WHEN 'paid' THEN '已收清' WHEN 'written_off' THEN '已核销' ELSE t.state END AS state_label,
    t.dun_notified AS dun_notified,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM receivables t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.owner_id;
COMMENT ON VIEW reporting.receivables IS '应收款：订单的每一期付款 (receivables, one per installment)';
COMMENT ON COLUMN reporting.receivables.id IS '编号 (id)';
COMMENT ON COLUMN reporting.receivables.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.receivables.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.receivables.order_id IS '订单编号';
COMMENT ON COLUMN reporting.receivables.owner_id IS '负责人（用户编号）';
COMMENT ON COLUMN reporting.receivables.owner_name IS '负责人（姓名）';
COMMENT ON COLUMN reporting.receivables.position IS '期次';
COMMENT ON COLUMN reporting.receivables.kind IS '款项类型（代码）';
COMMENT ON COLUMN reporting.receivables.kind_label IS '款项类型（中文名称）';
COMMENT ON COLUMN reporting.receivables.event IS '起算事件（代码）';
COMMENT ON COLUMN reporting.receivables.event_label IS '起算事件（中文名称）';
COMMENT ON COLUMN reporting.receivables.days IS '事件后天数';
COMMENT ON COLUMN reporting.receivables.amount IS '应收金额（元）';
COMMENT ON COLUMN reporting.receivables.event_on IS '事件日期（日期）';
COMMENT ON COLUMN reporting.receivables.due_on IS '到期日（日期）';
COMMENT ON COLUMN reporting.receivables.paid IS '已收金额（元）';
COMMENT ON COLUMN reporting.receivables.written_off IS '已核销金额（元）';
COMMENT ON COLUMN reporting.receivables.credited IS '退货冲减金额（元）';
COMMENT ON COLUMN reporting.receivables.outstanding IS '未收金额（元）';
COMMENT ON COLUMN reporting.receivables.paid_in_full_on IS '收清日期（日期）';
COMMENT ON COLUMN reporting.receivables.state IS '状态（代码）';
COMMENT ON COLUMN reporting.receivables.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.receivables.dun_notified IS '已通知的催款级别';
COMMENT ON COLUMN reporting.receivables.created_at IS '创建时间（时间，UTC）';
COMMENT ON COLUMN reporting.receivables.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.payments AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    CAST(t.received_on AS date) AS received_on,
    CAST(t.amount / 100.0 AS numeric(18,2)) AS amount,
    t.method AS method,
    CASE t.method WHEN 'transfer' THEN '银行转帐' WHEN 'acceptance' THEN '承兑汇票' WHEN 'cheque' THEN '支票' WHEN 'cash' THEN '现金' WHEN 'other' THEN '其他' ELSE t.method END AS method_label,
    t.reference AS reference,
    t.payer AS payer,
    CAST(t.unallocated / 100.0 AS numeric(18,2)) AS unallocated,
    t.created_by AS created_by,
    j2.display_name AS created_by_name,
    CAST(t.created_at AS timestamptz) AS created_at
FROM payments t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.username = t.created_by;
COMMENT ON VIEW reporting.payments IS '收款 (payments received)';
COMMENT ON COLUMN reporting.payments.id IS '编号 (id)';
COMMENT ON COLUMN reporting.payments.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.payments.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.payments.received_on IS '收款日期（日期）';
COMMENT ON COLUMN reporting.payments.amount IS '金额（元）';
COMMENT ON COLUMN reporting.payments.method IS '收款方式（代码）';
COMMENT ON COLUMN reporting.payments.method_label IS '收款方式（中文名称）';
COMMENT ON COLUMN reporting.payments.reference IS '流水号/摘要';
COMMENT ON COLUMN reporting.payments.payer IS '付款人';
COMMENT ON COLUMN reporting.payments.unallocated IS '未冲销余额（客户贷方余额）（元）';
COMMENT ON COLUMN reporting.payments.created_by IS '登记人（用户名）';
COMMENT ON COLUMN reporting.payments.created_by_name IS '登记人（姓名）';
COMMENT ON COLUMN reporting.payments.created_at IS '登记时间（时间，UTC）';

CREATE VIEW reporting.payment_allocations AS
SELECT
    t.id AS id,
    t.payment_id AS payment_id,
    t.receivable_id AS receivable_id,
    CAST(t.amount / 100.0 AS numeric(18,2)) AS amount,
    CAST(t.created_at AS timestamptz) AS created_at
FROM allocations t;
COMMENT ON VIEW reporting.payment_allocations IS '收款冲销到应收款 (payment allocations)';
COMMENT ON COLUMN reporting.payment_allocations.id IS '编号 (id)';
COMMENT ON COLUMN reporting.payment_allocations.payment_id IS '收款编号';
COMMENT ON COLUMN reporting.payment_allocations.receivable_id IS '应收款编号';
COMMENT ON COLUMN reporting.payment_allocations.amount IS '冲销金额（元）';
COMMENT ON COLUMN reporting.payment_allocations.created_at IS '冲销时间（时间，UTC）';

CREATE VIEW reporting.collection_contacts AS
SELECT
    t.id AS id,
    t.receivable_id AS receivable_id,
    t.account_id AS account_id,
    j1.name AS account_name,
    CAST(t.contacted_on AS date) AS contacted_on,
    t.channel AS channel,
    CASE t.channel WHEN 'phone' THEN '电话' WHEN 'visit' THEN '上门' WHEN 'letter' THEN '信函' WHEN 'email' THEN '电子邮件' WHEN 'message' THEN '短信/微信' ELSE t.channel END AS channel_label,
    t.note AS note,
    CAST(t.promised_amount / 100.0 AS numeric(18,2)) AS promised_amount,
    CAST(t.promised_on AS date) AS promised_on,
    t.level AS level,
    CASE t.level WHEN 'remind' THEN '提醒负责人' WHEN 'owner_calls' THEN '负责人电话催收' WHEN 'manager_calls' THEN '经理电话催收' WHEN 'finance_letter' THEN '财务发催款函' WHEN 'hold' THEN '暂停新订单' ELSE t.level END AS level_label,
    CAST(t.paid_at_contact / 100.0 AS numeric(18,2)) AS paid_at_contact,
    (t.judged = 1) AS judged,
    t.created_by AS created_by,
    j2.display_name AS created_by_name,
    CAST(t.created_at AS timestamptz) AS created_at
FROM collection_contacts t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.username = t.created_by;
COMMENT ON VIEW reporting.collection_contacts IS '催款联系记录与付款承诺 (dunning contacts and promises)';
COMMENT ON COLUMN reporting.collection_contacts.id IS '编号 (id)';
COMMENT ON COLUMN reporting.collection_contacts.receivable_id IS '应收款编号';
COMMENT ON COLUMN reporting.collection_contacts.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.collection_contacts.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.collection_contacts.contacted_on IS '联系日期（日期）';
COMMENT ON COLUMN reporting.collection_contacts.channel IS '方式（代码）';
COMMENT ON COLUMN reporting.collection_contacts.channel_label IS '方式（中文名称）';
COMMENT ON COLUMN reporting.collection_contacts.note IS '内容';
COMMENT ON COLUMN reporting.collection_contacts.promised_amount IS '承诺金额（元）';
COMMENT ON COLUMN reporting.collection_contacts.promised_on IS '承诺日期（日期）';
COMMENT ON COLUMN reporting.collection_contacts.level IS '当时的催款级别（代码）';
COMMENT ON COLUMN reporting.collection_contacts.level_label IS '当时的催款级别（中文名称）';
COMMENT ON COLUMN reporting.collection_contacts.paid_at_contact IS '联系时已付金额（元）';
COMMENT ON COLUMN reporting.collection_contacts.judged IS '承诺已判定（是/否）';
COMMENT ON COLUMN reporting.collection_contacts.created_by IS '记录人（用户名）';
COMMENT ON COLUMN reporting.collection_contacts.created_by_name IS '记录人（姓名）';
COMMENT ON COLUMN reporting.collection_contacts.created_at IS '记录时间（时间，UTC）';

CREATE VIEW reporting.order_holds AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.order_id AS order_id,
    t.kind AS kind,
    CASE t.kind WHEN 'general' THEN '订单冻结' WHEN 'dunning' THEN '催款冻结（该客户全部订货单）' WHEN 'credit' THEN '信用冻结' ELSE t.kind END AS kind_label,
    t.reason AS reason,
    t.credit_stage AS credit_stage,
    CASE t.credit_stage WHEN 'submit' THEN '提交签核' WHEN 'signoff' THEN '签核批准' WHEN 'delivery' THEN '备货/发货' ELSE t.credit_stage END AS credit_stage_label,
    t.decision AS decision,
    CASE t.decision WHEN 'released' THEN '已解除' WHEN 'rejected' THEN '已拒绝（订单取消）' ELSE t.decision END AS decision_label,
    t.placed_by AS placed_by,
    j2.display_name AS placed_by_name,
    CAST(t.placed_at AS timestamptz) AS placed_at,
    t.released_by AS released_by,
    j3.display_name AS released_by_name,
    CAST(t.released_at AS timestamptz) AS released_at,
    t.release_reason AS release_reason
FROM order_holds t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.username = t.placed_by
LEFT JOIN users j3 ON j3.username = t.released_by;
COMMENT ON VIEW reporting.order_holds IS '订单冻结（一般、催款、信用） (order holds)';
COMMENT ON COLUMN reporting.order_holds.id IS '编号 (id)';
COMMENT ON COLUMN reporting.order_holds.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.order_holds.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.order_holds.order_id IS '订单编号';
COMMENT ON COLUMN reporting.order_holds.kind IS '冻结类型（代码）';
COMMENT ON COLUMN reporting.order_holds.kind_label IS '冻结类型（中文名称）';
COMMENT ON COLUMN reporting.order_holds.reason IS '原因';
COMMENT ON COLUMN reporting.order_holds.credit_stage IS '信用冻结环节（代码）';
COMMENT ON COLUMN reporting.order_holds.credit_stage_label IS '信用冻结环节（中文名称）';
COMMENT ON COLUMN reporting.order_holds.decision IS '信用冻结决定（代码）';
COMMENT ON COLUMN reporting.order_holds.decision_label IS '信用冻结决定（中文名称）';
COMMENT ON COLUMN reporting.order_holds.placed_by IS '冻结人（用户名）';
COMMENT ON COLUMN reporting.order_holds.placed_by_name IS '冻结人（姓名）';
COMMENT ON COLUMN reporting.order_holds.placed_at IS '冻结时间（时间，UTC）';
COMMENT ON COLUMN reporting.order_holds.released_by IS '解除人（用户名）';
COMMENT ON COLUMN reporting.order_holds.released_by_name IS '解除人（姓名）';
COMMENT ON COLUMN reporting.order_holds.released_at IS '解除时间（时间，UTC）';
COMMENT ON COLUMN reporting.order_holds.release_reason IS '解除原因';

CREATE VIEW reporting.writeoffs AS
SELECT
    t.id AS id,
    t.receivable_id AS receivable_id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.order_id AS order_id,
    CAST(t.amount / 100.0 AS numeric(18,2)) AS amount,
    t.reason AS reason,
    t.state AS state,
    CASE t.state WHEN 'pending' THEN '审批中' WHEN 'approved' THEN '已核销' WHEN 'rejected' THEN '已驳回' WHEN 'returned' THEN '已退回' WHEN 'cancelled' THEN '已撤回' ELSE t.state END AS state_label,
    t.approval_id AS approval_id,
    t.requested_by AS requested_by,
    j2.display_name AS requested_by_name,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.closed_at AS timestamptz) AS closed_at
FROM writeoffs t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.username = t.requested_by;
COMMENT ON VIEW reporting.writeoffs IS '坏账核销 (bad-debt write-offs)';
COMMENT ON COLUMN reporting.writeoffs.id IS '编号 (id)';
COMMENT ON COLUMN reporting.writeoffs.receivable_id IS '应收款编号';
COMMENT ON COLUMN reporting.writeoffs.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.writeoffs.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.writeoffs.order_id IS '订单编号';
COMMENT ON COLUMN reporting.writeoffs.amount IS '核销金额（元）';
COMMENT ON COLUMN reporting.writeoffs.reason IS '原因';
COMMENT ON COLUMN reporting.writeoffs.state IS '状态（代码）';
COMMENT ON COLUMN reporting.writeoffs.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.writeoffs.approval_id IS '审批编号';
COMMENT ON COLUMN reporting.writeoffs.requested_by IS '申请人（用户名）';
COMMENT ON COLUMN reporting.writeoffs.requested_by_name IS '申请人（姓名）';
COMMENT ON COLUMN reporting.writeoffs.created_at IS '申请时间（时间，UTC）';
COMMENT ON COLUMN reporting.writeoffs.closed_at IS '结束时间（时间，UTC）';

CREATE VIEW reporting.order_returns AS
SELECT
    t.id AS id,
    t.number AS number,
    t.order_id AS order_id,
    CAST(t.returned_on AS date) AS returned_on,
    t.reason AS reason,
    CAST(t.value / 100.0 AS numeric(18,2)) AS value,
    CAST(t.reduced / 100.0 AS numeric(18,2)) AS reduced,
    CAST(t.to_credit / 100.0 AS numeric(18,2)) AS to_credit,
    CAST(t.created_at AS timestamptz) AS created_at
FROM order_returns t;
COMMENT ON VIEW reporting.order_returns IS '退货 (returns)';
COMMENT ON COLUMN reporting.order_returns.id IS '编号 (id)';
COMMENT ON COLUMN reporting.order_returns.number IS '退货单号';
COMMENT ON COLUMN reporting.order_returns.order_id IS '订单编号';
COMMENT ON COLUMN reporting.order_returns.returned_on IS '退货日期（日期）';
COMMENT ON COLUMN reporting.order_returns.reason IS '原因';
COMMENT ON COLUMN reporting.order_returns.value IS '退货金额（元）';
COMMENT ON COLUMN reporting.order_returns.reduced IS '冲减未收应收（元）';
COMMENT ON COLUMN reporting.order_returns.to_credit IS '转为客户贷方余额（元）';
COMMENT ON COLUMN reporting.order_returns.created_at IS '登记时间（时间，UTC）';

CREATE VIEW reporting.credit_lists AS
SELECT
    t.id AS account_id,
    t.name AS account_name,
    t.region_id AS region_id,
    j1.code AS region_code,
    j1.name AS region_name,
    t.owner_id AS owner_id,
    j2.display_name AS owner_name,
    t.status AS status,
    CASE t.status WHEN 'prospect' THEN '潜在客户' WHEN 'candidate' THEN '潜在大客户' WHEN 'key_account' THEN '大客户' WHEN 'downgraded' THEN '已降级' ELSE t.status END AS status_label,
    t.tier AS tier,
    CASE t.tier WHEN 'strategic' THEN '战略' WHEN 'A' THEN 'A 类' WHEN 'B' THEN 'B 类' WHEN 'C' THEN 'C 类' ELSE t.tier END AS tier_label,
    t.credit_grade AS credit_grade,
    CASE t.credit_grade WHEN 'green' THEN '绿名单' WHEN 'yellow' THEN '黄名单' WHEN 'red' THEN '红名单' WHEN 'black' THEN '黑名单' ELSE t.credit_grade END AS credit_grade_label,
    CAST(t.credit_limit / 100.0 AS numeric(18,2)) AS credit_limit,
    t.credit_score AS credit_score,
    (SELECT CAST(MAX(e.evaluated_on) AS date) FROM credit_evaluations e WHERE e.account_id = t.id) AS last_evaluated_on
FROM accounts t
LEFT JOIN org_units j1 ON j1.id = t.region_id
LEFT JOIN users j2 ON j2.id = t.owner_id
WHERE t.deleted_at IS NULL AND (t.credit_grade IS NOT NULL OR t.credit_score IS NOT NULL OR t.credit_limit IS NOT NULL);
COMMENT ON VIEW reporting.credit_lists IS '信用名单：每个客户的信用等级、额度与评分 (credit lists)';
COMMENT ON COLUMN reporting.credit_lists.account_id IS '客户编号';
COMMENT ON COLUMN reporting.credit_lists.account_name IS '客户名称';
COMMENT ON COLUMN reporting.credit_lists.region_id IS '所属大区（组织编号）';
COMMENT ON COLUMN reporting.credit_lists.region_code IS '所属大区（组织代码）';
COMMENT ON COLUMN reporting.credit_lists.region_name IS '所属大区（组织名称）';
COMMENT ON COLUMN reporting.credit_lists.owner_id IS '负责人（用户编号）';
COMMENT ON COLUMN reporting.credit_lists.owner_name IS '负责人（姓名）';
COMMENT ON COLUMN reporting.credit_lists.status IS '客户状态（代码）';
COMMENT ON COLUMN reporting.credit_lists.status_label IS '客户状态（中文名称）';
COMMENT ON COLUMN reporting.credit_lists.tier IS '客户分级（代码）';
COMMENT ON COLUMN reporting.credit_lists.tier_label IS '客户分级（中文名称）';
COMMENT ON COLUMN reporting.credit_lists.credit_grade IS '信用等级（名单）（代码）';
COMMENT ON COLUMN reporting.credit_lists.credit_grade_label IS '信用等级（名单）（中文名称）';
COMMENT ON COLUMN reporting.credit_lists.credit_limit IS '信用额度（元）';
COMMENT ON COLUMN reporting.credit_lists.credit_score IS '信用评分';
COMMENT ON COLUMN reporting.credit_lists.last_evaluated_on IS '最近一次信用评估日期（日期）';

CREATE VIEW reporting.credit_evaluations AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.score AS score,
    t.scale_max AS scale_max,
    t.notes AS notes,
    t.evaluated_by AS evaluated_by,
    j2.display_name AS evaluated_by_name,
    CAST(t.evaluated_on AS date) AS evaluated_on,
    CAST(t.created_at AS timestamptz) AS created_at
FROM credit_evaluations t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.evaluated_by;
COMMENT ON VIEW reporting.credit_evaluations IS '信用等级评分表（每次评估） (credit evaluations)';
COMMENT ON COLUMN reporting.credit_evaluations.id IS '编号 (id)';
COMMENT ON COLUMN reporting.credit_evaluations.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.credit_evaluations.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.credit_evaluations.score IS '评分（百分制）';
COMMENT ON COLUMN reporting.credit_evaluations.scale_max IS '每项满分';
COMMENT ON COLUMN reporting.credit_evaluations.notes IS '说明';
COMMENT ON COLUMN reporting.credit_evaluations.evaluated_by IS '评估人（用户编号）';
COMMENT ON COLUMN reporting.credit_evaluations.evaluated_by_name IS '评估人（姓名）';
COMMENT ON COLUMN reporting.credit_evaluations.evaluated_on IS '评估日期（日期）';
COMMENT ON COLUMN reporting.credit_evaluations.created_at IS '登记时间（时间，UTC）';

CREATE VIEW reporting.credit_triggers AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.kind AS kind,
    CASE t.kind WHEN 'downgrade' THEN '降级' WHEN 'computed_grade' THEN '按指标测算的等级变化' WHEN 'proposal' THEN '人工提议' WHEN 'dunning_90' THEN '逾期 90 天催款' ELSE t.kind END AS kind_label,
    t.proposed_grade AS proposed_grade,
    CASE t.proposed_grade WHEN 'green' THEN '绿名单' WHEN 'yellow' THEN '黄名单' WHEN 'red' THEN '红名单' WHEN 'black' THEN '黑名单' ELSE t.proposed_grade END AS proposed_grade_label,
    t.note AS note,
    CAST(t.triggered_at AS timestamptz) AS triggered_at,
    t.state AS state,
    CASE t.state WHEN 'open' THEN '待提交' WHEN 'filed' THEN '已提交' WHEN 'closed' THEN '已结束' ELSE t.state END AS state_label,
    t.request_id AS request_id,
    CAST(t.escalated_at AS timestamptz) AS escalated_at,
    t.escalated_to AS escalated_to,
    j2.display_name AS escalated_to_name,
    CAST(t.closed_at AS timestamptz) AS closed_at,
    t.outcome AS outcome
FROM credit_triggers t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.escalated_to;
COMMENT ON VIEW reporting.credit_triggers IS '信用等级变更的触发 (credit change triggers)';
COMMENT ON COLUMN reporting.credit_triggers.id IS '编号 (id)';
COMMENT ON COLUMN reporting.credit_triggers.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.credit_triggers.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.credit_triggers.kind IS '触发类型（代码）';
COMMENT ON COLUMN reporting.credit_triggers.kind_label IS '触发类型（中文名称）';
COMMENT ON COLUMN reporting.credit_triggers.proposed_grade IS '建议等级（代码）';
COMMENT ON COLUMN reporting.credit_triggers.proposed_grade_label IS '建议等级（中文名称）';
COMMENT ON COLUMN reporting.credit_triggers.note IS '说明';
COMMENT ON COLUMN reporting.credit_triggers.triggered_at IS '触发时间（时间，UTC）';
COMMENT ON COLUMN reporting.credit_triggers.state IS '状态（代码）';
COMMENT ON COLUMN reporting.credit_triggers.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.credit_triggers.request_id IS '变更申请编号';
COMMENT ON COLUMN reporting.credit_triggers.escalated_at IS '升级时间（时间，UTC）';
COMMENT ON COLUMN reporting.credit_triggers.escalated_to IS '升级给（用户编号）';
COMMENT ON COLUMN reporting.credit_triggers.escalated_to_name IS '升级给（姓名）';
COMMENT ON COLUMN reporting.credit_triggers.closed_at IS '结束时间（时间，UTC）';
COMMENT ON COLUMN reporting.credit_triggers.outcome IS '结果';

CREATE VIEW reporting.credit_change_requests AS
SELECT
    t.id AS id,
    t.trigger_id AS trigger_id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.from_grade AS from_grade,
    CASE t.from_grade WHEN 'green' THEN '绿名单' WHEN 'yellow' THEN '黄名单' WHEN 'red' THEN '红名单' WHEN 'black' THEN '黑名单' ELSE t.from_grade END AS from_grade_label,
    CAST(t.from_limit / 100.0 AS numeric(18,2)) AS from_limit,
    t.to_grade AS to_grade,
    CASE t.to_grade WHEN 'green' THEN '绿名单' WHEN 'yellow' THEN '黄名单' WHEN 'red' THEN '红名单' WHEN 'black' THEN '黑名单' ELSE t.to_grade END AS to_grade_label,
    CAST(t.to_limit / 100.0 AS numeric(18,2)) AS to_limit,
    t.reason AS reason,
    t.approval_id AS approval_id,
    t.state AS state,
    CASE t.state WHEN 'pending' THEN '审批中' WHEN 'approved' THEN '已批准' WHEN 'rejected' THEN '已驳回' WHEN 'returned' THEN '已退回' WHEN 'cancelled' THEN '已撤回' ELSE t.state END AS state_label,
    t.filed_by AS filed_by,
    j2.display_name AS filed_by_name,
    CAST(t.filed_at AS timestamptz) AS filed_at,
    CAST(t.deadline_cap AS timestamptz) AS deadline_cap,
    CAST(t.closed_at AS timestamptz) AS closed_at,
    t.close_reason AS close_reason
FROM credit_change_requests t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.username = t.filed_by;
COMMENT ON VIEW reporting.credit_change_requests IS '信用等级变更申请 (credit change requests)';
COMMENT ON COLUMN reporting.credit_change_requests.id IS '编号 (id)';
COMMENT ON COLUMN reporting.credit_change_requests.trigger_id IS '触发编号';
COMMENT ON COLUMN reporting.credit_change_requests.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.credit_change_requests.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.credit_change_requests.from_grade IS '原等级（代码）';
COMMENT ON COLUMN reporting.credit_change_requests.from_grade_label IS '原等级（中文名称）';
COMMENT ON COLUMN reporting.credit_change_requests.from_limit IS '原额度（元）';
COMMENT ON COLUMN reporting.credit_change_requests.to_grade IS '新等级（代码）';
COMMENT ON COLUMN reporting.credit_change_requests.to_grade_label IS '新等级（中文名称）';
COMMENT ON COLUMN reporting.credit_change_requests.to_limit IS '新额度（元）';
COMMENT ON COLUMN reporting.credit_change_requests.reason IS '理由';
COMMENT ON COLUMN reporting.credit_change_requests.approval_id IS '审批编号';
COMMENT ON COLUMN reporting.credit_change_requests.state IS '状态（代码）';
COMMENT ON COLUMN reporting.credit_change_requests.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.credit_change_requests.filed_by IS '申请人（用户名）';
COMMENT ON COLUMN reporting.credit_change_requests.filed_by_name IS '申请人（姓名）';
COMMENT ON COLUMN reporting.credit_change_requests.filed_at IS '申请时间（时间，UTC）';
COMMENT ON COLUMN reporting.credit_change_requests.deadline_cap IS '总时限（时间，UTC）';
COMMENT ON COLUMN reporting.credit_change_requests.closed_at IS '结束时间（时间，UTC）';
COMMENT ON COLUMN reporting.credit_change_requests.close_reason IS '结束原因';

CREATE VIEW reporting.credit_grade_changes AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.from_grade AS from_grade,
    CASE t.from_grade WHEN 'green' THEN '绿名单' WHEN 'yellow' THEN '黄名单' WHEN 'red' THEN '红名单' WHEN 'black' THEN '黑名单' ELSE t.from_grade END AS from_grade_label,
    t.to_grade AS to_grade,
    CASE t.to_grade WHEN 'green' THEN '绿名单' WHEN 'yellow' THEN '黄名单' WHEN 'red' THEN '红名单' WHEN 'black' THEN '黑名单' ELSE t.to_grade END AS to_grade_label,
    CAST(t.from_limit / 100.0 AS numeric(18,2)) AS from_limit,
    CAST(t.to_limit / 100.0 AS numeric(18,2)) AS to_limit,
    t.request_id AS request_id,
    t.approval_id AS approval_id,
    CAST(t.changed_at AS timestamptz) AS changed_at
FROM credit_grade_changes t
LEFT JOIN accounts j1 ON j1.id = t.account_id;
COMMENT ON VIEW reporting.credit_grade_changes IS '信用等级与额度的变更历史 (credit grade changes)';
COMMENT ON COLUMN reporting.credit_grade_changes.id IS '编号 (id)';
COMMENT ON COLUMN reporting.credit_grade_changes.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.credit_grade_changes.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.credit_grade_changes.from_grade IS '原等级（代码）';
COMMENT ON COLUMN reporting.credit_grade_changes.from_grade_label IS '原等级（中文名称）';
COMMENT ON COLUMN reporting.credit_grade_changes.to_grade IS '新等级（代码）';
COMMENT ON COLUMN reporting.credit_grade_changes.to_grade_label IS '新等级（中文名称）';
COMMENT ON COLUMN reporting.credit_grade_changes.from_limit IS '原额度（元）';
COMMENT ON COLUMN reporting.credit_grade_changes.to_limit IS '新额度（元）';
COMMENT ON COLUMN reporting.credit_grade_changes.request_id IS '变更申请编号';
COMMENT ON COLUMN reporting.credit_grade_changes.approval_id IS '审批编号';
COMMENT ON COLUMN reporting.credit_grade_changes.changed_at IS '变更时间（时间，UTC）';

CREATE VIEW reporting.account_plans AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.year AS year,
    t.owner_id AS owner_id,
    j2.display_name AS owner_name,
    t.tier AS tier,
    CASE t.tier WHEN 'strategic' THEN '战略' WHEN 'A' THEN 'A 类' WHEN 'B' THEN 'B 类' WHEN 'C' THEN 'C 类' ELSE t.tier END AS tier_label,
    t.phase AS phase,
    CASE t.phase WHEN 'preparation' THEN '规划与准备' WHEN 'drafting' THEN '编写' WHEN 'review' THEN '评审与调整' WHEN 'execution' THEN '执行与监控' ELSE t.phase END AS phase_label,
    t.reviewer_id AS reviewer_id,
    j3.display_name AS reviewer_name,
    CAST(t.submitted_at AS timestamptz) AS submitted_at,
    CAST(t.accepted_at AS timestamptz) AS accepted_at,
    CAST(t.revise_by AS date) AS revise_by,
    t.version AS version,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM account_plans t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.owner_id
LEFT JOIN users j3 ON j3.id = t.reviewer_id;
COMMENT ON VIEW reporting.account_plans IS '客户规划：每个大客户每年一份 (account plans)';
COMMENT ON COLUMN reporting.account_plans.id IS '编号 (id)';
COMMENT ON COLUMN reporting.account_plans.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.account_plans.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.account_plans.year IS '年度';
COMMENT ON COLUMN reporting.account_plans.owner_id IS '负责人（用户编号）';
COMMENT ON COLUMN reporting.account_plans.owner_name IS '负责人（姓名）';
COMMENT ON COLUMN reporting.account_plans.tier IS '制定时的分级（代码）';
COMMENT ON COLUMN reporting.account_plans.tier_label IS '制定时的分级（中文名称）';
COMMENT ON COLUMN reporting.account_plans.phase IS '阶段（代码）';
COMMENT ON COLUMN reporting.account_plans.phase_label IS '阶段（中文名称）';
COMMENT ON COLUMN reporting.account_plans.reviewer_id IS '评审人（用户编号）';
COMMENT ON COLUMN reporting.account_plans.reviewer_name IS '评审人（姓名）';
COMMENT ON COLUMN reporting.account_plans.submitted_at IS '提交时间（时间，UTC）';
COMMENT ON COLUMN reporting.account_plans.accepted_at IS '通过时间（时间，UTC）';
COMMENT ON COLUMN reporting.account_plans.revise_by IS '修改期限（日期）';
COMMENT ON COLUMN reporting.account_plans.version IS '版本';
COMMENT ON COLUMN reporting.account_plans.created_at IS '创建时间（时间，UTC）';
COMMENT ON COLUMN reporting.account_plans.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.account_plan_reviews AS
SELECT
    t.id AS id,
    t.plan_id AS plan_id,
    t.period AS period,
    t.cadence AS cadence,
    CASE t.cadence WHEN 'quarterly' THEN '每季度评审' WHEN 'yearly' THEN '每年评审' WHEN 'collective' THEN '年度集中评审' ELSE t.cadence END AS cadence_label,
    CAST(t.due_on AS date) AS due_on,
    t.state AS state,
    CASE t.state WHEN 'scheduled' THEN '已安排' WHEN 'open' THEN '评审中' WHEN 'accepted' THEN '已通过' WHEN 'returned' THEN '退回修改' ELSE t.state END AS state_label,
    t.approval_id AS approval_id,
    t.reviewed_by AS reviewed_by,
    j1.display_name AS reviewed_by_name,
    CAST(t.reviewed_at AS timestamptz) AS reviewed_at
FROM account_plan_reviews t
LEFT JOIN users j1 ON j1.username = t.reviewed_by;
COMMENT ON VIEW reporting.account_plan_reviews IS '客户规划的评审 (account plan reviews)';
COMMENT ON COLUMN reporting.account_plan_reviews.id IS '编号 (id)';
COMMENT ON COLUMN reporting.account_plan_reviews.plan_id IS '客户规划编号';
COMMENT ON COLUMN reporting.account_plan_reviews.period IS '评审期';
COMMENT ON COLUMN reporting.account_plan_reviews.cadence IS '评审频率（代码）';
COMMENT ON COLUMN reporting.account_plan_reviews.cadence_label IS '评审频率（中文名称）';
COMMENT ON COLUMN reporting.account_plan_reviews.due_on IS '到期日（日期）';
COMMENT ON COLUMN reporting.account_plan_reviews.state IS '状态（代码）';
COMMENT ON COLUMN reporting.account_plan_reviews.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.account_plan_reviews.approval_id IS '审批编号';
COMMENT ON COLUMN reporting.account_plan_reviews.reviewed_by IS '评审人（用户名）';
COMMENT ON COLUMN reporting.account_plan_reviews.reviewed_by_name IS '评审人（姓名）';
COMMENT ON COLUMN reporting.account_plan_reviews.reviewed_at IS '评审时间（时间，UTC）';

CREATE VIEW reporting.service_team AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.user_id AS user_id,
    j2.display_name AS user_name,
    t.function AS function,
    CASE t.function WHEN 'ka_manager' THEN '大客户经理' WHEN 'sales_support' THEN '销售支持' WHEN 'marketing_support' THEN '市场支持' WHEN 'after_sales_support' THEN '售后支持' WHEN 'finance_support' THEN '财务支持' WHEN 'training_support' THEN '培训支持' ELSE t.function END AS function_label,
    t.responsibilities AS responsibilities,
    CAST(t.created_at AS timestamptz) AS created_at
FROM account_service_team t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.user_id;
COMMENT ON VIEW reporting.service_team IS '大客户服务团队成员 (service team members)';
COMMENT ON COLUMN reporting.service_team.id IS '编号 (id)';
COMMENT ON COLUMN reporting.service_team.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.service_team.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.service_team.user_id IS '成员（用户编号）';
COMMENT ON COLUMN reporting.service_team.user_name IS '成员（姓名）';
COMMENT ON COLUMN reporting.service_team.function IS '职能（代码）';
COMMENT ON COLUMN reporting.service_team.function_label IS '职能（中文名称）';
COMMENT ON COLUMN reporting.service_team.responsibilities IS '职责';
COMMENT ON COLUMN reporting.service_team.created_at IS '加入时间（时间，UTC）';

CREATE VIEW reporting.service_requests AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.applicant_id AS applicant_id,
    j2.display_name AS applicant_name,
    CAST(t.applied_on AS date) AS applied_on,
    t.content AS content,
    t.state AS state,
    CASE t.state WHEN 'draft' THEN '草稿' WHEN 'submitted' THEN '审批中' WHEN 'approved' THEN '已批准' WHEN 'returned' THEN '已退回' WHEN 'rejected' THEN '已驳回' ELSE t.state END AS state_label,
    t.approval_id AS approval_id,
    CAST(t.submitted_at AS timestamptz) AS submitted_at,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM service_requests t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.applicant_id;
COMMENT ON VIEW reporting.service_requests IS '服务与支持申请 (service requests)';
COMMENT ON COLUMN reporting.service_requests.id IS '编号 (id)';
COMMENT ON COLUMN reporting.service_requests.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.service_requests.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.service_requests.applicant_id IS '申请人（用户编号）';
COMMENT ON COLUMN reporting.service_requests.applicant_name IS '申请人（姓名）';
COMMENT ON COLUMN reporting.service_requests.applied_on IS '申请日期（日期）';
COMMENT ON COLUMN reporting.service_requests.content IS '内容';
COMMENT ON COLUMN reporting.service_requests.state IS '状态（代码）';
COMMENT ON COLUMN reporting.service_requests.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.service_requests.approval_id IS '审批编号';
COMMENT ON COLUMN reporting.service_requests.submitted_at IS '提交时间（时间，UTC）';
COMMENT ON COLUMN reporting.service_requests.created_at IS '创建时间（时间，UTC）';
COMMENT ON COLUMN reporting.service_requests.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.service_events AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.kind AS kind,
    CASE t.kind WHEN 'technical_seminar' THEN '产品技术交流会' WHEN 'industry_exchange' THEN '行业交流会' WHEN 'appreciation_event' THEN '客户答谢会' WHEN 'launch_invitation' THEN '新品发布邀请' WHEN 'other' THEN '其他' ELSE t.kind END AS kind_label,
    t.title AS title,
    CAST(t.starts_at AS timestamptz) AS starts_at,
    t.place AS place,
    t.state AS state,
    CASE t.state WHEN 'planned' THEN '计划中' WHEN 'held' THEN '已举办' WHEN 'cancelled' THEN '已取消' ELSE t.state END AS state_label,
    CAST(t.held_at AS timestamptz) AS held_at,
    CAST(t.return_due_on AS date) AS return_due_on,
    CAST(t.created_at AS timestamptz) AS created_at
FROM service_events t
LEFT JOIN accounts j1 ON j1.id = t.account_id;
COMMENT ON VIEW reporting.service_events IS '服务活动（交流会、答谢会等） (service events)';
COMMENT ON COLUMN reporting.service_events.id IS '编号 (id)';
COMMENT ON COLUMN reporting.service_events.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.service_events.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.service_events.kind IS '类型（代码）';
COMMENT ON COLUMN reporting.service_events.kind_label IS '类型（中文名称）';
COMMENT ON COLUMN reporting.service_events.title IS '标题';
COMMENT ON COLUMN reporting.service_events.starts_at IS '开始时间（时间，UTC）';
COMMENT ON COLUMN reporting.service_events.place IS '地点';
COMMENT ON COLUMN reporting.service_events.state IS '状态（代码）';
COMMENT ON COLUMN reporting.service_events.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.service_events.held_at IS '举办时间（时间，UTC）';
COMMENT ON COLUMN reporting.service_events.return_due_on IS '回访期限（日期）';
COMMENT ON COLUMN reporting.service_events.created_at IS '创建时间（时间，UTC）';

CREATE VIEW reporting.service_evaluations AS
SELECT
    t.id AS id,
    t.event_id AS event_id,
    t.score AS score,
    t.state AS state,
    CASE t.state WHEN 'draft' THEN '草稿' WHEN 'submitted' THEN '审批中' WHEN 'approved' THEN '已批准' WHEN 'returned' THEN '已退回' WHEN 'rejected' THEN '已驳回' ELSE t.state END AS state_label,
    t.approval_id AS approval_id,
    t.written_by AS written_by,
    j1.display_name AS written_by_name,
    CAST(t.written_at AS timestamptz) AS written_at
FROM service_evaluations t
LEFT JOIN users j1 ON j1.username = t.written_by;
COMMENT ON VIEW reporting.service_evaluations IS '服务活动评估 (service evaluations)';
COMMENT ON COLUMN reporting.service_evaluations.id IS '编号 (id)';
COMMENT ON COLUMN reporting.service_evaluations.event_id IS '服务活动编号';
COMMENT ON COLUMN reporting.service_evaluations.score IS '评分';
COMMENT ON COLUMN reporting.service_evaluations.state IS '状态（代码）';
COMMENT ON COLUMN reporting.service_evaluations.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.service_evaluations.approval_id IS '审批编号';
COMMENT ON COLUMN reporting.service_evaluations.written_by IS '填写人（用户名）';
COMMENT ON COLUMN reporting.service_evaluations.written_by_name IS '填写人（姓名）';
COMMENT ON COLUMN reporting.service_evaluations.written_at IS '填写时间（时间，UTC）';

CREATE VIEW reporting.suggestions AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.channel AS channel,
    CASE t.channel WHEN 'in_person' THEN '面谈' WHEN 'phone' THEN '电话' WHEN 'web' THEN '网站' WHEN 'email' THEN '邮件' ELSE t.channel END AS channel_label,
    t.category AS category,
    CASE t.category WHEN 'product' THEN '产品' WHEN 'service' THEN '服务' WHEN 'delivery' THEN '交付' WHEN 'quality' THEN '质量' WHEN 'price' THEN '价格' WHEN 'other' THEN '其他' ELSE t.category END AS category_label,
    CAST(t.received_on AS date) AS received_on,
    t.received_by AS received_by,
    j2.display_name AS received_by_name,
    t.content AS content,
    CAST(t.reply_due AS date) AS reply_due,
    t.state AS state,
    CASE t.state WHEN 'received' THEN '已收到' WHEN 'in_review' THEN '审核中' WHEN 'returned' THEN '退回修改' WHEN 'approved' THEN '已批准待执行' WHEN 'rejected' THEN '未采纳' WHEN 'done' THEN '已执行' WHEN 'replied' THEN '已答复' ELSE t.state END AS state_label,
    t.approval_id AS approval_id,
    CAST(t.executed_at AS timestamptz) AS executed_at,
    CAST(t.replied_at AS timestamptz) AS replied_at,
    t.replied_by AS replied_by,
    j3.display_name AS replied_by_name,
    t.feedback_score AS feedback_score,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM suggestions t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.received_by
LEFT JOIN users j3 ON j3.id = t.replied_by;
COMMENT ON VIEW reporting.suggestions IS '客户建议 (customer suggestions)';
COMMENT ON COLUMN reporting.suggestions.id IS '编号 (id)';
COMMENT ON COLUMN reporting.suggestions.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.suggestions.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.suggestions.channel IS '渠道（代码）';
COMMENT ON COLUMN reporting.suggestions.channel_label IS '渠道（中文名称）';
COMMENT ON COLUMN reporting.suggestions.category IS '类别（代码）';
COMMENT ON COLUMN reporting.suggestions.category_label IS '类别（中文名称）';
COMMENT ON COLUMN reporting.suggestions.received_on IS '收到日期（日期）';
COMMENT ON COLUMN reporting.suggestions.received_by IS '接收人（用户编号）';
COMMENT ON COLUMN reporting.suggestions.received_by_name IS '接收人（姓名）';
COMMENT ON COLUMN reporting.suggestions.content IS '内容';
COMMENT ON COLUMN reporting.suggestions.reply_due IS '承诺答复日期（日期）';
COMMENT ON COLUMN reporting.suggestions.state IS '状态（代码）';
COMMENT ON COLUMN reporting.suggestions.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.suggestions.approval_id IS '审批编号';
COMMENT ON COLUMN reporting.suggestions.executed_at IS '执行时间（时间，UTC）';
COMMENT ON COLUMN reporting.suggestions.replied_at IS '答复时间（时间，UTC）';
COMMENT ON COLUMN reporting.suggestions.replied_by IS '答复人（用户编号）';
COMMENT ON COLUMN reporting.suggestions.replied_by_name IS '答复人（姓名）';
COMMENT ON COLUMN reporting.suggestions.feedback_score IS '客户反馈评分';
COMMENT ON COLUMN reporting.suggestions.created_at IS '创建时间（时间，UTC）';
COMMENT ON COLUMN reporting.suggestions.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.opl_items AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.source AS source,
    CASE t.source WHEN 'survey' THEN '满意度调查' WHEN 'suggestion' THEN '客户建议' WHEN 'service_evaluation' THEN '服务评估' WHEN 'manual' THEN '手工登记' ELSE t.source END AS source_label,
    t.source_id AS source_id,
    t.title AS title,
    t.owner_id AS owner_id,
    j2.display_name AS owner_name,
    CAST(t.due_on AS date) AS due_on,
    t.status AS status,
    CASE t.status WHEN 'open' THEN '待处理' WHEN 'in_progress' THEN '处理中' WHEN 'closed' THEN '已关闭' ELSE t.status END AS status_label,
    CAST(t.next_review_on AS date) AS next_review_on,
    CAST(t.closed_at AS timestamptz) AS closed_at,
    CAST(t.created_at AS timestamptz) AS created_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM opl_items t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.owner_id;
COMMENT ON VIEW reporting.opl_items IS '未决问题清单 OPL (open points)';
COMMENT ON COLUMN reporting.opl_items.id IS '编号 (id)';
COMMENT ON COLUMN reporting.opl_items.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.opl_items.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.opl_items.source IS '来源（代码）';
COMMENT ON COLUMN reporting.opl_items.source_label IS '来源（中文名称）';
COMMENT ON COLUMN reporting.opl_items.source_id IS '来源记录编号';
COMMENT ON COLUMN reporting.opl_items.title IS '标题';
COMMENT ON COLUMN reporting.opl_items.owner_id IS '负责人（用户编号）';
COMMENT ON COLUMN reporting.opl_items.owner_name IS '负责人（姓名）';
COMMENT ON COLUMN reporting.opl_items.due_on IS '期限（日期）';
COMMENT ON COLUMN reporting.opl_items.status IS '状态（代码）';
COMMENT ON COLUMN reporting.opl_items.status_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.opl_items.next_review_on IS '下次评审日期（日期）';
COMMENT ON COLUMN reporting.opl_items.closed_at IS '关闭时间（时间，UTC）';
COMMENT ON COLUMN reporting.opl_items.created_at IS '创建时间（时间，UTC）';
COMMENT ON COLUMN reporting.opl_items.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.opl_reviews AS
SELECT
    t.id AS id,
    t.item_id AS item_id,
    CAST(t.reviewed_on AS date) AS reviewed_on,
    t.progress AS progress,
    t.status_after AS status_after,
    CASE t.status_after WHEN 'open' THEN '待处理' WHEN 'in_progress' THEN '处理中' WHEN 'closed' THEN '已关闭' ELSE t.status_after END AS status_after_label,
    CAST(t.next_review_on AS date) AS next_review_on,
    t.reviewed_by AS reviewed_by,
    j1.display_name AS reviewed_by_name
FROM opl_reviews t
LEFT JOIN users j1 ON j1.username = t.reviewed_by;
COMMENT ON VIEW reporting.opl_reviews IS 'OPL 的两周评审 (open-point reviews)';
COMMENT ON COLUMN reporting.opl_reviews.id IS '编号 (id)';
COMMENT ON COLUMN reporting.opl_reviews.item_id IS 'OPL 编号';
COMMENT ON COLUMN reporting.opl_reviews.reviewed_on IS '评审日期（日期）';
COMMENT ON COLUMN reporting.opl_reviews.progress IS '进展';
COMMENT ON COLUMN reporting.opl_reviews.status_after IS '评审后状态（代码）';
COMMENT ON COLUMN reporting.opl_reviews.status_after_label IS '评审后状态（中文名称）';
COMMENT ON COLUMN reporting.opl_reviews.next_review_on IS '下次评审日期（日期）';
COMMENT ON COLUMN reporting.opl_reviews.reviewed_by IS '评审人（用户名）';
COMMENT ON COLUMN reporting.opl_reviews.reviewed_by_name IS '评审人（姓名）';

CREATE VIEW reporting.survey_responses AS
SELECT
    r.id AS id,
    r.campaign_id AS campaign_id,
    c.quarter AS quarter,
    r.account_id AS account_id,
    j1.name AS account_name,
    r.department AS department,
    CASE r.department WHEN 'purchasing' THEN '采购' WHEN 'engineering' THEN '工程/技术' WHEN 'logistics' THEN '物流' WHEN 'quality' THEN '质量' ELSE r.department END AS department_label,
    r.respondent AS respondent,
    r.channel AS channel,
    CASE r.channel WHEN 'staff' THEN '员工录入' WHEN 'link' THEN '客户在线填写' WHEN 'import' THEN '导入服务商结果' ELSE r.channel END AS channel_label,
    CAST(r.answered_at AS timestamptz) AS answered_at,
    r.n_scores AS n_scores,
    CASE WHEN r.n_scores > 0 THEN CAST(r.pct_sum / (100.0 * r.n_scores) AS numeric(9,2)) END AS score_pct
FROM survey_responses r JOIN survey_campaigns c ON c.id = r.campaign_id
LEFT JOIN accounts j1 ON j1.id = r.account_id;
COMMENT ON VIEW reporting.survey_responses IS '满意度调查答卷：每个大客户每季度每个部门一份 (survey responses)';
COMMENT ON COLUMN reporting.survey_responses.id IS '答卷编号';
COMMENT ON COLUMN reporting.survey_responses.campaign_id IS '调查编号';
COMMENT ON COLUMN reporting.survey_responses.quarter IS '季度';
COMMENT ON COLUMN reporting.survey_responses.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.survey_responses.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.survey_responses.department IS '部门（代码）';
COMMENT ON COLUMN reporting.survey_responses.department_label IS '部门（中文名称）';
COMMENT ON COLUMN reporting.survey_responses.respondent IS '答卷人';
COMMENT ON COLUMN reporting.survey_responses.channel IS '填写方式（代码）';
COMMENT ON COLUMN reporting.survey_responses.channel_label IS '填写方式（中文名称）';
COMMENT ON COLUMN reporting.survey_responses.answered_at IS '答卷时间（时间，UTC）';
COMMENT ON COLUMN reporting.survey_responses.n_scores IS '评分题数';
COMMENT ON COLUMN reporting.survey_responses.score_pct IS '平均得分（满分百分比，%）';

CREATE VIEW reporting.survey_scores AS
SELECT
    t.response_id AS response_id,
    t.campaign_id AS campaign_id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.question AS question,
    t.department AS department,
    t.score AS score,
    t.scale_max AS scale_max,
    CAST(t.pct / 100.0 AS numeric(9,2)) AS score_pct
FROM survey_scores t
LEFT JOIN accounts j1 ON j1.id = t.account_id;
COMMENT ON VIEW reporting.survey_scores IS '满意度调查每题得分 (survey scores by question)';
COMMENT ON COLUMN reporting.survey_scores.response_id IS '答卷编号';
COMMENT ON COLUMN reporting.survey_scores.campaign_id IS '调查编号';
COMMENT ON COLUMN reporting.survey_scores.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.survey_scores.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.survey_scores.question IS '题目代码';
COMMENT ON COLUMN reporting.survey_scores.department IS '部门代码';
COMMENT ON COLUMN reporting.survey_scores.score IS '得分';
COMMENT ON COLUMN reporting.survey_scores.scale_max IS '满分';
COMMENT ON COLUMN reporting.survey_scores.score_pct IS '得分率（%）';

CREATE VIEW reporting.sales_plans AS
SELECT
    t.id AS id,
    t.year AS year,
    t.state AS state,
    CASE t.state WHEN 'draft' THEN '草稿' WHEN 'in_review' THEN '审批中' WHEN 'returned' THEN '已退回' WHEN 'approved' THEN '已批准' ELSE t.state END AS state_label,
    t.revision AS revision,
    t.approval_id AS approval_id,
    CAST(t.submitted_at AS timestamptz) AS submitted_at,
    CAST(t.approved_at AS timestamptz) AS approved_at,
    CAST(t.split_at AS timestamptz) AS split_at,
    CAST(t.appraised_at AS timestamptz) AS appraised_at,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM sales_plans t;
COMMENT ON VIEW reporting.sales_plans IS '年度大客户销售计划 (annual sales plans)';
COMMENT ON COLUMN reporting.sales_plans.id IS '编号 (id)';
COMMENT ON COLUMN reporting.sales_plans.year IS '年度';
COMMENT ON COLUMN reporting.sales_plans.state IS '状态（代码）';
COMMENT ON COLUMN reporting.sales_plans.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.sales_plans.revision IS '修订号';
COMMENT ON COLUMN reporting.sales_plans.approval_id IS '审批编号';
COMMENT ON COLUMN reporting.sales_plans.submitted_at IS '提交时间（时间，UTC）';
COMMENT ON COLUMN reporting.sales_plans.approved_at IS '批准时间（时间，UTC）';
COMMENT ON COLUMN reporting.sales_plans.split_at IS '分解为指标的时间（时间，UTC）';
COMMENT ON COLUMN reporting.sales_plans.appraised_at IS '考评时间（时间，UTC）';
COMMENT ON COLUMN reporting.sales_plans.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.budgets AS
SELECT
    t.id AS id,
    t.org_unit_id AS org_unit_id,
    j1.code AS org_unit_code,
    j1.name AS org_unit_name,
    t.year AS year,
    t.state AS state,
    CASE t.state WHEN 'draft' THEN '草稿' WHEN 'in_review' THEN '审批中' WHEN 'returned' THEN '已退回' WHEN 'rejected' THEN '已驳回' WHEN 'approved' THEN '已批准' WHEN 'closed' THEN '已关账' ELSE t.state END AS state_label,
    t.revision AS revision,
    t.approval_id AS approval_id,
    t.drafted_by AS drafted_by,
    j2.display_name AS drafted_by_name,
    CAST(t.approved_at AS timestamptz) AS approved_at,
    CAST(t.closed_at AS timestamptz) AS closed_at,
    (SELECT CAST(COALESCE(SUM(l.amount), 0) / 100.0 AS numeric(18,2)) FROM budget_lines l WHERE l.budget_id = t.id) AS total
FROM budgets t
LEFT JOIN org_units j1 ON j1.id = t.org_unit_id
LEFT JOIN users j2 ON j2.id = t.drafted_by;
COMMENT ON VIEW reporting.budgets IS '年度预算（每个成本中心） (budgets)';
COMMENT ON COLUMN reporting.budgets.id IS '编号 (id)';
COMMENT ON COLUMN reporting.budgets.org_unit_id IS '成本中心（组织编号）';
COMMENT ON COLUMN reporting.budgets.org_unit_code IS '成本中心（组织代码）';
COMMENT ON COLUMN reporting.budgets.org_unit_name IS '成本中心（组织名称）';
COMMENT ON COLUMN reporting.budgets.year IS '年度';
COMMENT ON COLUMN reporting.budgets.state IS '状态（代码）';
COMMENT ON COLUMN reporting.budgets.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.budgets.revision IS '修订号';
COMMENT ON COLUMN reporting.budgets.approval_id IS '审批编号';
COMMENT ON COLUMN reporting.budgets.drafted_by IS '编制人（用户编号）';
COMMENT ON COLUMN reporting.budgets.drafted_by_name IS '编制人（姓名）';
COMMENT ON COLUMN reporting.budgets.approved_at IS '批准时间（时间，UTC）';
COMMENT ON COLUMN reporting.budgets.closed_at IS '关账时间（时间，UTC）';
COMMENT ON COLUMN reporting.budgets.total IS '全年预算合计（元）';

CREATE VIEW reporting.budget_lines AS
SELECT
    l.id AS id,
    l.budget_id AS budget_id,
    t.org_unit_id AS org_unit_id,
    j1.code AS org_unit_code,
    j1.name AS org_unit_name,
    t.year AS year,
    l.category AS category,
    l.month AS month,
    CAST(l.amount / 100.0 AS numeric(18,2)) AS amount
FROM budget_lines l JOIN budgets t ON t.id = l.budget_id
LEFT JOIN org_units j1 ON j1.id = t.org_unit_id;
COMMENT ON VIEW reporting.budget_lines IS '预算明细：类别 × 月 (budget lines)';
COMMENT ON COLUMN reporting.budget_lines.id IS '预算行编号';
COMMENT ON COLUMN reporting.budget_lines.budget_id IS '预算编号';
COMMENT ON COLUMN reporting.budget_lines.org_unit_id IS '成本中心（组织编号）';
COMMENT ON COLUMN reporting.budget_lines.org_unit_code IS '成本中心（组织代码）';
COMMENT ON COLUMN reporting.budget_lines.org_unit_name IS '成本中心（组织名称）';
COMMENT ON COLUMN reporting.budget_lines.year IS '年度';
COMMENT ON COLUMN reporting.budget_lines.category IS '费用类别';
COMMENT ON COLUMN reporting.budget_lines.month IS '月（1–12）';
COMMENT ON COLUMN reporting.budget_lines.amount IS '预算金额（元）';

CREATE VIEW reporting.spending AS
SELECT
    t.id AS id,
    t.budget_id AS budget_id,
    t.org_unit_id AS org_unit_id,
    j1.code AS org_unit_code,
    j1.name AS org_unit_name,
    t.category AS category,
    CAST(t.spent_on AS date) AS spent_on,
    CAST(t.amount / 100.0 AS numeric(18,2)) AS amount,
    t.purpose AS purpose,
    t.account_id AS account_id,
    j2.name AS account_name,
    t.state AS state,
    CASE t.state WHEN 'submitted' THEN '待签批' WHEN 'signed' THEN '已签批' WHEN 'in_approval' THEN '预算外审批中' WHEN 'approved' THEN '已批准' WHEN 'rejected' THEN '已驳回' WHEN 'returned' THEN '已退回' WHEN 'cancelled' THEN '已取消' ELSE t.state END AS state_label,
    (t.in_budget = 1) AS in_budget,
    t.approval_id AS approval_id,
    t.recorded_by AS recorded_by,
    j3.display_name AS recorded_by_name,
    t.signed_by AS signed_by,
    j4.display_name AS signed_by_name,
    CAST(t.signed_at AS timestamptz) AS signed_at,
    CAST(t.created_at AS timestamptz) AS created_at
FROM spending t
LEFT JOIN org_units j1 ON j1.id = t.org_unit_id
LEFT JOIN accounts j2 ON j2.id = t.account_id
LEFT JOIN users j3 ON j3.id = t.recorded_by
LEFT JOIN users j4 ON j4.id = t.signed_by;
COMMENT ON VIEW reporting.spending IS '费用 (spending)';
COMMENT ON COLUMN reporting.spending.id IS '编号 (id)';
COMMENT ON COLUMN reporting.spending.budget_id IS '预算编号';
COMMENT ON COLUMN reporting.spending.org_unit_id IS '成本中心（组织编号）';
COMMENT ON COLUMN reporting.spending.org_unit_code IS '成本中心（组织代码）';
COMMENT ON COLUMN reporting.spending.org_unit_name IS '成本中心（组织名称）';
COMMENT ON COLUMN reporting.spending.category IS '费用类别';
COMMENT ON COLUMN reporting.spending.spent_on IS '发生日期（日期）';
COMMENT ON COLUMN reporting.spending.amount IS '金额（元）';
COMMENT ON COLUMN reporting.spending.purpose IS '用途';
COMMENT ON COLUMN reporting.spending.account_id IS '相关客户（客户编号）';
COMMENT ON COLUMN reporting.spending.account_name IS '相关客户（客户名称）';
COMMENT ON COLUMN reporting.spending.state IS '状态（代码）';
COMMENT ON COLUMN reporting.spending.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.spending.in_budget IS '预算内（是/否）';
COMMENT ON COLUMN reporting.spending.approval_id IS '审批编号';
COMMENT ON COLUMN reporting.spending.recorded_by IS '登记人（用户编号）';
COMMENT ON COLUMN reporting.spending.recorded_by_name IS '登记人（姓名）';
COMMENT ON COLUMN reporting.spending.signed_by IS '签批人（用户编号）';
COMMENT ON COLUMN reporting.spending.signed_by_name IS '签批人（姓名）';
COMMENT ON COLUMN reporting.spending.signed_at IS '签批时间（时间，UTC）';
COMMENT ON COLUMN reporting.spending.created_at IS '创建时间（时间，UTC）';

CREATE VIEW reporting.exec_requests AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.executive_id AS executive_id,
    j2.display_name AS executive_name,
    t.purpose AS purpose,
    t.expected_result AS expected_result,
    CAST(t.visit_on AS date) AS visit_on,
    t.state AS state,
    CASE t.state WHEN 'in_approval' THEN '审批中' WHEN 'approved' THEN '已批准' WHEN 'rejected' THEN '已驳回' WHEN 'returned' THEN '已退回' WHEN 'cancelled' THEN '已取消' ELSE t.state END AS state_label,
    t.approval_id AS approval_id,
    t.activity_id AS activity_id,
    t.requested_by AS requested_by,
    j3.display_name AS requested_by_name,
    CAST(t.created_at AS timestamptz) AS created_at
FROM exec_requests t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.executive_id
LEFT JOIN users j3 ON j3.id = t.requested_by;
COMMENT ON VIEW reporting.exec_requests IS '高层资源支持申请 (executive resource requests)';
COMMENT ON COLUMN reporting.exec_requests.id IS '编号 (id)';
COMMENT ON COLUMN reporting.exec_requests.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.exec_requests.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.exec_requests.executive_id IS '高层（用户编号）';
COMMENT ON COLUMN reporting.exec_requests.executive_name IS '高层（姓名）';
COMMENT ON COLUMN reporting.exec_requests.purpose IS '目的';
COMMENT ON COLUMN reporting.exec_requests.expected_result IS '预期结果';
COMMENT ON COLUMN reporting.exec_requests.visit_on IS '拜访日期（日期）';
COMMENT ON COLUMN reporting.exec_requests.state IS '状态（代码）';
COMMENT ON COLUMN reporting.exec_requests.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.exec_requests.approval_id IS '审批编号';
COMMENT ON COLUMN reporting.exec_requests.activity_id IS '对应的拜访编号';
COMMENT ON COLUMN reporting.exec_requests.requested_by IS '申请人（用户编号）';
COMMENT ON COLUMN reporting.exec_requests.requested_by_name IS '申请人（姓名）';
COMMENT ON COLUMN reporting.exec_requests.created_at IS '申请时间（时间，UTC）';

CREATE VIEW reporting.kpi_contracts AS
SELECT
    t.id AS id,
    t.user_id AS user_id,
    j1.display_name AS user_name,
    t.year AS year,
    t.role AS role,
    CASE t.role WHEN 'admin' THEN '系统管理员' WHEN 'gm' THEN '总经理' WHEN 'marketing_director' THEN '营销总监' WHEN 'sales_dept_manager' THEN '销售部经理' WHEN 'ka_director' THEN '大客户销售主管' WHEN 'ka_manager' THEN '大客户销售经理' WHEN 'ka_rep' THEN '大客户销售代表' WHEN 'inside_sales' THEN '内部销售' WHEN 'branch_manager' THEN '分公司经理' WHEN 'commercial_manager' THEN '商务经理' WHEN 'finance_manager' THEN '财务经理' WHEN 'logistics_manager' THEN '物流经理' WHEN 'marketing' THEN '市场部' ELSE t.role END AS role_label,
    t.org_unit_id AS org_unit_id,
    j2.code AS org_unit_code,
    j2.name AS org_unit_name,
    t.issuer_id AS issuer_id,
    j3.display_name AS issuer_name,
    CAST(t.bonus_base / 100.0 AS numeric(18,2)) AS bonus_base,
    t.state AS state,
    CASE t.state WHEN 'issued' THEN '待确认' WHEN 'acknowledged' THEN '双方已确认' WHEN 'closed' THEN '已结算' ELSE t.state END AS state_label,
    CAST(t.holder_ack_at AS timestamptz) AS holder_ack_at,
    CAST(t.issuer_ack_at AS timestamptz) AS issuer_ack_at,
    (t.veto_hit = 1) AS veto_hit,
    t.veto_reason AS veto_reason,
    CAST(t.final_score_bp / 100.0 AS numeric(9,2)) AS final_score_pct,
    CAST(t.closed_at AS timestamptz) AS closed_at
FROM kpi_contracts t
LEFT JOIN users j1 ON j1.id = t.user_id
LEFT JOIN org_units j2 ON j2.id = t.org_unit_id
LEFT JOIN users j3 ON j3.id = t.issuer_id;
COMMENT ON VIEW reporting.kpi_contracts IS '业绩合同 (KPI performance contracts)';
COMMENT ON COLUMN reporting.kpi_contracts.id IS '编号 (id)';
COMMENT ON COLUMN reporting.kpi_contracts.user_id IS '持有人（用户编号）';
COMMENT ON COLUMN reporting.kpi_contracts.user_name IS '持有人（姓名）';
COMMENT ON COLUMN reporting.kpi_contracts.year IS '年度';
COMMENT ON COLUMN reporting.kpi_contracts.role IS '角色（代码）';
COMMENT ON COLUMN reporting.kpi_contracts.role_label IS '角色（中文名称）';
COMMENT ON COLUMN reporting.kpi_contracts.org_unit_id IS '组织（组织编号）';
COMMENT ON COLUMN reporting.kpi_contracts.org_unit_code IS '组织（组织代码）';
COMMENT ON COLUMN reporting.kpi_contracts.org_unit_name IS '组织（组织名称）';
COMMENT ON COLUMN reporting.kpi_contracts.issuer_id IS '下达人（用户编号）';
COMMENT ON COLUMN reporting.kpi_contracts.issuer_name IS '下达人（姓名）';
COMMENT ON COLUMN reporting.kpi_contracts.bonus_base IS '奖金基数（元）';
COMMENT ON COLUMN reporting.kpi_contracts.state IS '状态（代码）';
COMMENT ON COLUMN reporting.kpi_contracts.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.kpi_contracts.holder_ack_at IS '持有人确认时间（时间，UTC）';
COMMENT ON COLUMN reporting.kpi_contracts.issuer_ack_at IS '下达人确认时间（时间，UTC）';
COMMENT ON COLUMN reporting.kpi_contracts.veto_hit IS '触发否决项（是/否）';
COMMENT ON COLUMN reporting.kpi_contracts.veto_reason IS '否决原因';
COMMENT ON COLUMN reporting.kpi_contracts.final_score_pct IS '年度最终得分（%）';
COMMENT ON COLUMN reporting.kpi_contracts.closed_at IS '结算时间（时间，UTC）';

CREATE VIEW reporting.kpi_actuals AS
SELECT
    t.id AS id,
    t.contract_id AS contract_id,
    t.indicator AS indicator,
    t.period AS period,
    t.value AS value,
    t.entered_by AS entered_by,
    j1.display_name AS entered_by_name,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM kpi_actuals t
LEFT JOIN users j1 ON j1.id = t.entered_by;
COMMENT ON VIEW reporting.kpi_actuals IS '业绩合同指标的实际值（经理录入） (KPI actuals entered)';
COMMENT ON COLUMN reporting.kpi_actuals.id IS '编号 (id)';
COMMENT ON COLUMN reporting.kpi_actuals.contract_id IS '业绩合同编号';
COMMENT ON COLUMN reporting.kpi_actuals.indicator IS '指标代码';
COMMENT ON COLUMN reporting.kpi_actuals.period IS '期间';
COMMENT ON COLUMN reporting.kpi_actuals.value IS '实际值（金额为分，比例为基点）';
COMMENT ON COLUMN reporting.kpi_actuals.entered_by IS '录入人（用户编号）';
COMMENT ON COLUMN reporting.kpi_actuals.entered_by_name IS '录入人（姓名）';
COMMENT ON COLUMN reporting.kpi_actuals.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.kpi_team_evaluations AS
SELECT
    t.id AS id,
    t.org_unit_id AS org_unit_id,
    j1.code AS org_unit_code,
    j1.name AS org_unit_name,
    t.period AS period,
    CAST(t.met_bp / 100.0 AS numeric(9,2)) AS met_pct,
    CAST(t.next_revenue / 100.0 AS numeric(18,2)) AS next_revenue,
    t.recorded_by AS recorded_by,
    j2.display_name AS recorded_by_name,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM kpi_team_evaluations t
LEFT JOIN org_units j1 ON j1.id = t.org_unit_id
LEFT JOIN users j2 ON j2.id = t.recorded_by;
COMMENT ON VIEW reporting.kpi_team_evaluations IS '团队业绩评价 (team evaluations)';
COMMENT ON COLUMN reporting.kpi_team_evaluations.id IS '编号 (id)';
COMMENT ON COLUMN reporting.kpi_team_evaluations.org_unit_id IS '团队（组织编号）';
COMMENT ON COLUMN reporting.kpi_team_evaluations.org_unit_code IS '团队（组织代码）';
COMMENT ON COLUMN reporting.kpi_team_evaluations.org_unit_name IS '团队（组织名称）';
COMMENT ON COLUMN reporting.kpi_team_evaluations.period IS '期间';
COMMENT ON COLUMN reporting.kpi_team_evaluations.met_pct IS '目标达成（%）';
COMMENT ON COLUMN reporting.kpi_team_evaluations.next_revenue IS '下期收入目标（元）';
COMMENT ON COLUMN reporting.kpi_team_evaluations.recorded_by IS '记录人（用户编号）';
COMMENT ON COLUMN reporting.kpi_team_evaluations.recorded_by_name IS '记录人（姓名）';
COMMENT ON COLUMN reporting.kpi_team_evaluations.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.kpi_coefficients AS
SELECT
    t.id AS id,
    t.org_unit_id AS org_unit_id,
    j1.code AS org_unit_code,
    j1.name AS org_unit_name,
    t.period AS period,
    CAST(t.coefficient_bp / 10000.0 AS numeric(6,4)) AS coefficient,
    t.set_by AS set_by,
    j2.display_name AS set_by_name,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM kpi_coefficients t
LEFT JOIN org_units j1 ON j1.id = t.org_unit_id
LEFT JOIN users j2 ON j2.id = t.set_by;
COMMENT ON VIEW reporting.kpi_coefficients IS '团队系数 (team coefficients)';
COMMENT ON COLUMN reporting.kpi_coefficients.id IS '编号 (id)';
COMMENT ON COLUMN reporting.kpi_coefficients.org_unit_id IS '团队（组织编号）';
COMMENT ON COLUMN reporting.kpi_coefficients.org_unit_code IS '团队（组织代码）';
COMMENT ON COLUMN reporting.kpi_coefficients.org_unit_name IS '团队（组织名称）';
COMMENT ON COLUMN reporting.kpi_coefficients.period IS '期间';
COMMENT ON COLUMN reporting.kpi_coefficients.coefficient IS '系数（≤ 1.0）';
COMMENT ON COLUMN reporting.kpi_coefficients.set_by IS '设定人（用户编号）';
COMMENT ON COLUMN reporting.kpi_coefficients.set_by_name IS '设定人（姓名）';
COMMENT ON COLUMN reporting.kpi_coefficients.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.kpi_awards AS
SELECT
    t.id AS id,
    t.kind AS kind,
    CASE t.kind WHEN 'best_team' THEN '年度最佳团队' WHEN 'quarterly' THEN '季度奖' ELSE t.kind END AS kind_label,
    t.period AS period,
    t.org_unit_id AS org_unit_id,
    j1.code AS org_unit_code,
    j1.name AS org_unit_name,
    t.user_id AS user_id,
    j2.display_name AS user_name,
    t.title AS title,
    t.reason AS reason,
    t.awarded_by AS awarded_by,
    j3.display_name AS awarded_by_name,
    CAST(t.created_at AS timestamptz) AS created_at
FROM kpi_awards t
LEFT JOIN org_units j1 ON j1.id = t.org_unit_id
LEFT JOIN users j2 ON j2.id = t.user_id
LEFT JOIN users j3 ON j3.id = t.awarded_by;
COMMENT ON VIEW reporting.kpi_awards IS '奖励 (awards)';
COMMENT ON COLUMN reporting.kpi_awards.id IS '编号 (id)';
COMMENT ON COLUMN reporting.kpi_awards.kind IS '奖项（代码）';
COMMENT ON COLUMN reporting.kpi_awards.kind_label IS '奖项（中文名称）';
COMMENT ON COLUMN reporting.kpi_awards.period IS '期间';
COMMENT ON COLUMN reporting.kpi_awards.org_unit_id IS '获奖团队（组织编号）';
COMMENT ON COLUMN reporting.kpi_awards.org_unit_code IS '获奖团队（组织代码）';
COMMENT ON COLUMN reporting.kpi_awards.org_unit_name IS '获奖团队（组织名称）';
COMMENT ON COLUMN reporting.kpi_awards.user_id IS '获奖人（用户编号）';
COMMENT ON COLUMN reporting.kpi_awards.user_name IS '获奖人（姓名）';
COMMENT ON COLUMN reporting.kpi_awards.title IS '名称';
COMMENT ON COLUMN reporting.kpi_awards.reason IS '理由';
COMMENT ON COLUMN reporting.kpi_awards.awarded_by IS '颁发人（用户编号）';
COMMENT ON COLUMN reporting.kpi_awards.awarded_by_name IS '颁发人（姓名）';
COMMENT ON COLUMN reporting.kpi_awards.created_at IS '颁发时间（时间，UTC）';

CREATE VIEW reporting.account_class_history AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    CAST(t.at AS timestamptz) AS at,
    t.by_user AS by_user,
    t.reason AS reason,
    CAST(t.buying_power / 100.0 AS numeric(18,2)) AS buying_power,
    CAST(t.sales_12m / 100.0 AS numeric(18,2)) AS sales_12m,
    CAST(t.sow_bp / 100.0 AS numeric(9,2)) AS sow_pct,
    t.rad_class AS rad_class,
    CASE t.rad_class WHEN 'R1' THEN 'R1 保持型（采购量大）' WHEN 'R2' THEN 'R2 保持型（采购量中）' WHEN 'R3' THEN 'R3 保持型（采购量小）' WHEN 'D1' THEN 'D1 发展型（采购量大）' WHEN 'D2' THEN 'D2 发展型（采购量中）' WHEN 'D3' THEN 'D3 发展型（采购量小）' WHEN 'A1' THEN 'A1 开拓型（采购量大）' WHEN 'A2' THEN 'A2 开拓型（采购量中）' WHEN 'A3' THEN 'A3 开拓型（采购量小）' ELSE t.rad_class END AS rad_class_label,
    t.tier AS tier,
    CASE t.tier WHEN 'strategic' THEN '战略' WHEN 'A' THEN 'A 类' WHEN 'B' THEN 'B 类' WHEN 'C' THEN 'C 类' ELSE t.tier END AS tier_label,
    t.tier_score AS tier_score
FROM account_class_history t
LEFT JOIN accounts j1 ON j1.id = t.account_id;
COMMENT ON VIEW reporting.account_class_history IS '客户分类与分级的历史：每次重新分类时的采购力、销售额、份额、RAD 与分级 (classification history)';
COMMENT ON COLUMN reporting.account_class_history.id IS '编号 (id)';
COMMENT ON COLUMN reporting.account_class_history.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.account_class_history.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.account_class_history.at IS '时间（时间，UTC）';
COMMENT ON COLUMN reporting.account_class_history.by_user IS '操作人（用户名或系统）';
COMMENT ON COLUMN reporting.account_class_history.reason IS '原因';
COMMENT ON COLUMN reporting.account_class_history.buying_power IS '采购力（元）';
COMMENT ON COLUMN reporting.account_class_history.sales_12m IS '近12个月销售额（元）';
COMMENT ON COLUMN reporting.account_class_history.sow_pct IS '份额 SOW（%）';
COMMENT ON COLUMN reporting.account_class_history.rad_class IS 'RAD 分类（代码）';
COMMENT ON COLUMN reporting.account_class_history.rad_class_label IS 'RAD 分类（中文名称）';
COMMENT ON COLUMN reporting.account_class_history.tier IS '分级（代码）';
COMMENT ON COLUMN reporting.account_class_history.tier_label IS '分级（中文名称）';
COMMENT ON COLUMN reporting.account_class_history.tier_score IS '分级得分';

CREATE VIEW reporting.activity_contacts AS
SELECT
    t.activity_id AS activity_id,
    t.contact_id AS contact_id,
    t.attitude AS attitude,
    CASE t.attitude WHEN 'supporter' THEN '支持' WHEN 'neutral' THEN '中立' WHEN 'opponent' THEN '反对' ELSE t.attitude END AS attitude_label,
    (SELECT c.name FROM contacts c WHERE c.id = t.contact_id) AS contact_name
FROM activity_contacts t;
COMMENT ON VIEW reporting.activity_contacts IS '拜访中见到的联系人及其当时的态度 (contacts met on a visit)';
COMMENT ON COLUMN reporting.activity_contacts.activity_id IS '拜访编号';
COMMENT ON COLUMN reporting.activity_contacts.contact_id IS '联系人编号';
COMMENT ON COLUMN reporting.activity_contacts.attitude IS '当时的态度（代码）';
COMMENT ON COLUMN reporting.activity_contacts.attitude_label IS '当时的态度（中文名称）';
COMMENT ON COLUMN reporting.activity_contacts.contact_name IS '联系人姓名';

CREATE VIEW reporting.screenings AS
SELECT
    t.id AS id,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.version AS version,
    t.risk_score AS risk_score,
    t.approval_id AS approval_id,
    t.submitted_by AS submitted_by,
    j2.display_name AS submitted_by_name,
    CAST(t.submitted_at AS timestamptz) AS submitted_at
FROM screenings t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.id = t.submitted_by;
COMMENT ON VIEW reporting.screenings IS '大客户筛选（风险分析表）的每次提交 (key-account screenings)';
COMMENT ON COLUMN reporting.screenings.id IS '编号 (id)';
COMMENT ON COLUMN reporting.screenings.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.screenings.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.screenings.version IS '第几次筛选';
COMMENT ON COLUMN reporting.screenings.risk_score IS '风险分';
COMMENT ON COLUMN reporting.screenings.approval_id IS '审批编号';
COMMENT ON COLUMN reporting.screenings.submitted_by IS '提交人（用户编号）';
COMMENT ON COLUMN reporting.screenings.submitted_by_name IS '提交人（姓名）';
COMMENT ON COLUMN reporting.screenings.submitted_at IS '提交时间（时间，UTC）';

CREATE VIEW reporting.delivery_lines AS
SELECT
    l.id AS id,
    l.outbound_id AS outbound_id,
    t.order_id AS order_id,
    t.state AS outbound_state,
    CASE t.state WHEN 'prepared' THEN '已备货' WHEN 'shipped' THEN '已发货' WHEN 'delivered' THEN '已到货' WHEN 'accepted' THEN '已验收' WHEN 'cancelled' THEN '已取消' ELSE t.state END AS outbound_state_label,
    l.position AS position,
    l.description AS description,
    l.unit AS unit,
    CAST(l.quantity / 1000.0 AS numeric(18,3)) AS quantity
FROM outbound_lines l JOIN outbounds t ON t.id = l.outbound_id;
COMMENT ON VIEW reporting.delivery_lines IS '出库单行 (outbound lines)';
COMMENT ON COLUMN reporting.delivery_lines.id IS '出库单行编号';
COMMENT ON COLUMN reporting.delivery_lines.outbound_id IS '出库单编号';
COMMENT ON COLUMN reporting.delivery_lines.order_id IS '订单编号';
COMMENT ON COLUMN reporting.delivery_lines.outbound_state IS '出库单状态（代码）';
COMMENT ON COLUMN reporting.delivery_lines.outbound_state_label IS '出库单状态（中文名称）';
COMMENT ON COLUMN reporting.delivery_lines.position IS '行号';
COMMENT ON COLUMN reporting.delivery_lines.description IS '品名';
COMMENT ON COLUMN reporting.delivery_lines.unit IS '单位';
COMMENT ON COLUMN reporting.delivery_lines.quantity IS '数量';

CREATE VIEW reporting.return_lines AS
SELECT
    l.id AS id,
    l.return_id AS return_id,
    t.order_id AS order_id,
    l.position AS position,
    l.description AS description,
    l.unit AS unit,
    CAST(l.quantity / 1000.0 AS numeric(18,3)) AS quantity,
    CAST(l.amount / 100.0 AS numeric(18,2)) AS amount
FROM order_return_lines l JOIN order_returns t ON t.id = l.return_id;
COMMENT ON VIEW reporting.return_lines IS '退货行 (return lines)';
COMMENT ON COLUMN reporting.return_lines.id IS '退货行编号';
COMMENT ON COLUMN reporting.return_lines.return_id IS '退货编号';
COMMENT ON COLUMN reporting.return_lines.order_id IS '订单编号';
COMMENT ON COLUMN reporting.return_lines.position IS '行号';
COMMENT ON COLUMN reporting.return_lines.description IS '品名';
COMMENT ON COLUMN reporting.return_lines.unit IS '单位';
COMMENT ON COLUMN reporting.return_lines.quantity IS '数量';
COMMENT ON COLUMN reporting.return_lines.amount IS '金额（元）';

CREATE VIEW reporting.bank_statement_lines AS
SELECT
    t.id AS id,
    t.statement_id AS statement_id,
    t.row_no AS row_no,
    CAST(t.received_on AS date) AS received_on,
    t.payer AS payer,
    CAST(t.amount / 100.0 AS numeric(18,2)) AS amount,
    t.reference AS reference,
    t.state AS state,
    CASE t.state WHEN 'proposed' THEN '待确认' WHEN 'unmatched' THEN '未匹配' WHEN 'confirmed' THEN '已确认' WHEN 'ignored' THEN '已忽略' ELSE t.state END AS state_label,
    t.match_by AS match_by,
    t.account_id AS account_id,
    j1.name AS account_name,
    t.payment_id AS payment_id,
    t.ignore_reason AS ignore_reason,
    CAST(t.updated_at AS timestamptz) AS updated_at
FROM bank_statement_lines t
LEFT JOIN accounts j1 ON j1.id = t.account_id;
COMMENT ON VIEW reporting.bank_statement_lines IS '银行对账单的行及其匹配 (bank statement lines)';
COMMENT ON COLUMN reporting.bank_statement_lines.id IS '编号 (id)';
COMMENT ON COLUMN reporting.bank_statement_lines.statement_id IS '对账单编号';
COMMENT ON COLUMN reporting.bank_statement_lines.row_no IS '行号';
COMMENT ON COLUMN reporting.bank_statement_lines.received_on IS '收款日期（日期）';
COMMENT ON COLUMN reporting.bank_statement_lines.payer IS '付款人';
COMMENT ON COLUMN reporting.bank_statement_lines.amount IS '金额（元）';
COMMENT ON COLUMN reporting.bank_statement_lines.reference IS '摘要/流水号';
COMMENT ON COLUMN reporting.bank_statement_lines.state IS '状态（代码）';
COMMENT ON COLUMN reporting.bank_statement_lines.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.bank_statement_lines.match_by IS '匹配依据';
COMMENT ON COLUMN reporting.bank_statement_lines.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.bank_statement_lines.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.bank_statement_lines.payment_id IS '登记的收款编号';
COMMENT ON COLUMN reporting.bank_statement_lines.ignore_reason IS '忽略原因';
COMMENT ON COLUMN reporting.bank_statement_lines.updated_at IS '最后修改时间（时间，UTC）';

CREATE VIEW reporting.whitespace_cells AS
SELECT
    t.account_id AS account_id,
    j1.name AS account_name,
    t.business_unit AS business_unit,
    t.product_line AS product_line,
    t.state AS state,
    CASE t.state WHEN 'sold' THEN '已售' WHEN 'pipeline' THEN '商机中' WHEN 'competitor' THEN '竞争对手' WHEN 'open' THEN '未覆盖' ELSE t.state END AS state_label,
    t.note AS note,
    t.set_by AS set_by,
    j2.display_name AS set_by_name,
    CAST(t.set_at AS timestamptz) AS set_at
FROM whitespace_cells t
LEFT JOIN accounts j1 ON j1.id = t.account_id
LEFT JOIN users j2 ON j2.username = t.set_by;
COMMENT ON VIEW reporting.whitespace_cells IS '白区分析：客户业务单元 × 我方产品线，手工设置的格子 (whitespace cells set by hand)';
COMMENT ON COLUMN reporting.whitespace_cells.account_id IS '客户（客户编号）';
COMMENT ON COLUMN reporting.whitespace_cells.account_name IS '客户（客户名称）';
COMMENT ON COLUMN reporting.whitespace_cells.business_unit IS '客户业务单元';
COMMENT ON COLUMN reporting.whitespace_cells.product_line IS '产品线';
COMMENT ON COLUMN reporting.whitespace_cells.state IS '状态（代码）';
COMMENT ON COLUMN reporting.whitespace_cells.state_label IS '状态（中文名称）';
COMMENT ON COLUMN reporting.whitespace_cells.note IS '说明';
COMMENT ON COLUMN reporting.whitespace_cells.set_by IS '设置人（用户名）';
COMMENT ON COLUMN reporting.whitespace_cells.set_by_name IS '设置人（姓名）';
COMMENT ON COLUMN reporting.whitespace_cells.set_at IS '设置时间（时间，UTC）';

REVOKE ALL ON SCHEMA reporting FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT FROM pg_roles WHERE rolname = 'kam_reporting') THEN
        GRANT USAGE ON SCHEMA reporting TO kam_reporting;
        GRANT SELECT ON ALL TABLES IN SCHEMA reporting TO kam_reporting;
    END IF;
END
$$;
