//! Raw input from a JSON body or an HTML form, before validation. Both presenters hand the
//! use cases an [`Input`], so every rule (allowed fields, formats) is checked in one place.
use std::collections::BTreeMap;

use serde_json::Value;

use crate::app::{Error, Result};
use crate::domain::error::Errors;

#[derive(Debug, Default, Clone)]
pub struct Input {
    /// Present keys; `None` means an explicit null / empty form field (clear the value).
    fields: BTreeMap<String, Option<String>>,
    /// Keys that arrived as JSON numbers (refused where a decimal string is required).
    numbers: Vec<String>,
    pub version: Option<i64>,
}

impl Input {
    pub fn from_json(v: &Value) -> Result<Input> {
        let obj = v.as_object().ok_or_else(|| Error::invalid("body", "expected_object"))?;
        let mut inp = Input::default();
        let mut errs = Errors::default();
        for (k, v) in obj {
            if k == "version" {
                match v.as_i64() {
                    Some(n) => inp.version = Some(n),
                    None => errs.add("version", "expected_integer"),
                }
                continue;
            }
            let val = match v {
                Value::Null => None,
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => {
                    inp.numbers.push(k.clone());
                    Some(n.to_string())
                }
                Value::Bool(b) => Some(b.to_string()),
                _ => {
                    errs.add(k, "expected_scalar");
                    continue;
                }
            };
            inp.fields.insert(k.clone(), val);
        }
        errs.finish()?;
        Ok(inp)
    }

    /// Form fields: an empty field clears the value; `_csrf` was checked by the extractor.
    pub fn from_form(pairs: &[(String, String)]) -> Result<Input> {
        let mut inp = Input::default();
        for (k, v) in pairs {
            if k.starts_with('_') {
                continue;
            }
            if k == "version" {
                inp.version = Some(v.trim().parse().map_err(|_| Error::invalid("version", "expected_integer"))?);
                continue;
            }
            let v = if v.trim().is_empty() { None } else { Some(v.clone()) };
            inp.fields.insert(k.clone(), v);
        }
        Ok(inp)
    }

    pub fn from_pairs(pairs: &[(&str, Option<&str>)]) -> Input {
        let mut inp = Input::default();
        for (k, v) in pairs {
            inp.fields.insert(k.to_string(), v.map(str::to_string));
        }
        inp
    }

    /// Refuses unknown keys (`unknown_field`) and keys the caller may not set (`forbidden_field`),
    /// all at once.
    pub fn check_keys(&self, allowed: &[&str], known: &[&str]) -> Result<()> {
        let mut errs = Errors::default();
        for k in self.fields.keys() {
            if !allowed.contains(&k.as_str()) {
                errs.add(k, if known.contains(&k.as_str()) { "forbidden_field" } else { "unknown_field" });
            }
        }
        errs.finish()
    }

    /// For creating: a version is the system's to set, so giving one is refused.
    pub fn refuse_version(&self) -> Result<()> {
        match self.version {
            Some(_) => Err(Error::invalid("version", "forbidden_field")),
            None => Ok(()),
        }
    }

    pub fn has(&self, k: &str) -> bool {
        self.fields.contains_key(k)
    }
    /// `None`: not given. `Some(None)`: cleared. `Some(Some(v))`: a value.
    pub fn get(&self, k: &str) -> Option<Option<&str>> {
        self.fields.get(k).map(|v| v.as_deref())
    }
    pub fn was_number(&self, k: &str) -> bool {
        self.numbers.iter().any(|n| n == k)
    }
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
    /// Puts a key in (a presenter flattening a nested object, such as a visit's `check_in`).
    pub fn insert(&mut self, k: &str, v: Option<String>, number: bool) {
        self.fields.insert(k.to_string(), v);
        if number {
            self.numbers.push(k.to_string());
        }
    }
    /// Takes a key out (one the presenter read itself, such as the account an opportunity is
    /// established on), so the use case's key check does not see it.
    pub fn remove(&mut self, k: &str) {
        self.fields.remove(k);
        self.numbers.retain(|n| n != k);
    }
}
