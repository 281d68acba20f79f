#![allow(dead_code)] // each test binary uses part of it
//! A real OpenLDAP for the tests of directory sign-in (tests/it/ldap.rs, tests/browser.rs):
//! Debian's `slapd` on a free port with a directory of its own, loaded with `slapadd`, stopped
//! and removed when dropped.
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use kam::app::people::ldap::{parse_role_groups, Config, AD_DISABLED_FILTER};

pub struct Slapd {
    child: Child,
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Slapd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub const SUFFIX: &str = "dc=example,dc=com";
pub const SERVICE_DN: &str = "cn=kam,ou=services,dc=example,dc=com";
pub const SERVICE_PW: &str = "service-secret";
pub const ROOT_DN: &str = "cn=admin,dc=example,dc=com";
pub const ROOT_PW: &str = "admin-secret";

fn person(uid: &str, name: &str, unit: &str, password: &str, extra: &str) -> String {
    format!(
        "dn: uid={uid},ou=people,{SUFFIX}\nobjectClass: inetOrgPerson\nuid: {uid}\ncn: {uid}\nsn: {uid}\n\
         displayName: {name}\nmail: {uid}@example.com\ndepartmentNumber: {unit}\nuserPassword: {password}\n{extra}\n"
    )
}

fn group(cn: &str, members: &[&str]) -> String {
    let m: String = members.iter().map(|u| format!("member: uid={u},ou=people,{SUFFIX}\n")).collect();
    format!("dn: cn={cn},ou=groups,{SUFFIX}\nobjectClass: groupOfNames\ncn: {cn}\n{m}\n")
}

/// A directory of its own: 王芳 (a KA manager in 北京), 李雷 (a rep whose unit KAM does not
/// know), 赵敏 (disabled), 陈杰 (in no KAM group), and `admin` (a directory entry with the same
/// name as KAM's local administrator).
pub fn start_slapd() -> Option<Slapd> {
    let slapd = ["/usr/sbin/slapd", "/usr/local/sbin/slapd"].into_iter().map(PathBuf::from).find(|p| p.exists());
    let Some(slapd) = slapd else {
        assert!(
            std::env::var_os("KAM_REQUIRE_DEPLOY_TOOLS").is_none(),
            "slapd is required here (apt-get install slapd ldap-utils)"
        );
        eprintln!("slapd not installed: the directory sign-in test is skipped");
        return None;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir_all(d.join("db")).expect("db dir");
    let conf = format!(
        "include /etc/ldap/schema/core.schema\ninclude /etc/ldap/schema/cosine.schema\n\
         include /etc/ldap/schema/inetorgperson.schema\ninclude /etc/ldap/schema/nis.schema\n\
         modulepath /usr/lib/ldap\nmoduleload back_mdb\npidfile {pid}\n\
         database mdb\nmaxsize 16777216\nsuffix \"{SUFFIX}\"\nrootdn \"{ROOT_DN}\"\nrootpw {ROOT_PW}\ndirectory {db}\n\
         access to attrs=userPassword by anonymous auth by * none\n\
         access to * by dn.exact=\"{SERVICE_DN}\" read by self read by * none\n",
        pid = d.join("slapd.pid").display(),
        db = d.join("db").display(),
    );
    std::fs::write(d.join("slapd.conf"), conf).expect("slapd.conf");
    let mut ldif = format!(
        "dn: {SUFFIX}\nobjectClass: dcObject\nobjectClass: organization\ndc: example\no: Example\n\n\
         dn: ou=people,{SUFFIX}\nobjectClass: organizationalUnit\nou: people\n\n\
         dn: ou=groups,{SUFFIX}\nobjectClass: organizationalUnit\nou: groups\n\n\
         dn: ou=services,{SUFFIX}\nobjectClass: organizationalUnit\nou: services\n\n\
         dn: {SERVICE_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: kam\nuserPassword: {SERVICE_PW}\n\n"
    );
    ldif.push_str(&person("wang.fang", "王芳", "BJ", "directory-pass-1", ""));
    ldif.push_str(&person("li.lei", "李雷", "NOWHERE", "directory-pass-2", ""));
    ldif.push_str(&person("zhao.min", "赵敏", "BJ", "directory-pass-3", "employeeType: disabled\n"));
    ldif.push_str(&person("chen.jie", "陈杰", "BJ", "directory-pass-4", ""));
    ldif.push_str(&person("admin", "目录里的 admin", "HQ", "directory-pass-5", ""));
    // groupOfNames needs a member: a placeholder stays when 王芳 leaves.
    ldif.push_str(&group("kam-managers", &["wang.fang", "nobody"]));
    ldif.push_str(&group("kam-reps", &["li.lei", "zhao.min", "wang.fang", "admin"]));
    ldif.push_str(&group("others", &["chen.jie"]));
    std::fs::write(d.join("data.ldif"), ldif).expect("ldif");
    let conf = d.join("slapd.conf");
    let added = Command::new("/usr/sbin/slapadd")
        .arg("-f")
        .arg(&conf)
        .arg("-l")
        .arg(d.join("data.ldif"))
        .output()
        .expect("slapadd");
    assert!(added.status.success(), "slapadd: {}", String::from_utf8_lossy(&added.stderr));
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("free port").local_addr().expect("addr").port();
    let child = Command::new(slapd)
        .arg("-f")
        .arg(&conf)
        .arg("-h")
        .arg(format!("ldap://127.0.0.1:{port}/"))
        .args(["-d", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start slapd");
    let s = Slapd { child, port, _dir: dir };
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Some(s);
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("slapd did not start listening on {port}");
}

pub fn config(port: u16) -> Config {
    Config {
        url: format!("ldap://127.0.0.1:{port}"),
        starttls: false,
        bind_dn: SERVICE_DN.into(),
        bind_password: SERVICE_PW.into(),
        base_dn: format!("ou=people,{SUFFIX}"),
        user_filter: "(&(objectClass=inetOrgPerson)(uid={username}))".into(),
        group_base: format!("ou=groups,{SUFFIX}"),
        group_filter: "(|(member={dn})(uniqueMember={dn})(memberUid={username}))".into(),
        // The managers' group comes first: 王芳 is in both.
        role_groups: parse_role_groups("kam-managers=ka_manager,kam-reps=ka_rep").expect("mapping"),
        unit_attribute: "departmentNumber".into(),
        default_unit: None,
        name_attribute: "displayName".into(),
        mail_attribute: "mail".into(),
        // OpenLDAP without ppolicy: the company marks disabled people, and AD's rule stays.
        disabled_filter: format!("(|(employeeType=disabled){AD_DISABLED_FILTER})"),
        sync_minutes: 60,
        timeout: std::time::Duration::from_secs(5),
    }
}
