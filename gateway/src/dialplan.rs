//! The dial plan: which rule a dialled number matches, how it is rewritten, where it goes.
//!
//! Patterns follow the convention of PBX dial plans: digits and `+`/`*`/`#` match
//! themselves, `X` any digit, `Z` 1–9, `N` 2–9, a trailing `.` one or more characters of
//! anything; the pattern `*` alone matches every number. Letters other than X/Z/N match
//! themselves case-insensitively, so `echo` is a valid pattern. Before matching, a dialled
//! string is normalised: visual separators (space, `-`, `.`, `(`, `)`) are removed, and a
//! leading `00` becomes `+` (international prefix to E.164).

use crate::config::{DialRule, DialTarget};

/// The outcome of routing a dialled number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Index of the rule that matched.
    pub rule: usize,
    /// The number after normalisation, strip and prepend.
    pub number: String,
    /// Where the call goes.
    pub target: DialTarget,
}

/// Checks that a pattern is well formed; the error says why not.
pub fn check_pattern(p: &str) -> Result<(), String> {
    if p.is_empty() {
        return Err("must not be empty".into());
    }
    if p == "*" {
        return Ok(());
    }
    for (i, c) in p.char_indices() {
        match c {
            '.' if i + 1 == p.len() && i > 0 => {}
            '.' => {
                return Err(
                    "`.` may only end a pattern, after at least one other character".into(),
                );
            }
            c if c.is_ascii_alphanumeric() || matches!(c, '+' | '*' | '#') => {}
            c => return Err(format!("character `{c}` is not allowed")),
        }
    }
    Ok(())
}

/// Removes visual separators and turns a leading `00` into `+`.
pub fn normalize(dialled: &str) -> String {
    let mut s: String = dialled
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    if let Some(rest) = s.strip_prefix("00")
        && !rest.is_empty()
        && rest.bytes().all(|b| b.is_ascii_digit())
    {
        s = format!("+{rest}");
    }
    s
}

/// Whether `number` matches `pattern` (both already normalised).
pub fn matches(pattern: &str, number: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    let p = pattern.as_bytes();
    let n = number.as_bytes();
    let (fixed, open) = match p.last() {
        Some(b'.') => (&p[..p.len() - 1], true),
        _ => (p, false),
    };
    if open {
        if n.len() <= fixed.len() {
            return false;
        }
    } else if n.len() != fixed.len() {
        return false;
    }
    fixed.iter().zip(n).all(|(&pc, &nc)| match pc {
        b'X' | b'x' => nc.is_ascii_digit(),
        b'Z' | b'z' => (b'1'..=b'9').contains(&nc),
        b'N' | b'n' => (b'2'..=b'9').contains(&nc),
        _ => pc.eq_ignore_ascii_case(&nc),
    })
}

/// Routes `dialled` through `rules`; `None` when no rule matches.
pub fn route(rules: &[DialRule], dialled: &str) -> Option<Route> {
    let number = normalize(dialled);
    rules
        .iter()
        .enumerate()
        .find(|(_, r)| matches(&r.pattern, &number))
        .map(|(i, r)| {
            let stripped = number.get(r.strip.min(number.len())..).unwrap_or("");
            Route {
                rule: i,
                number: format!("{}{}", r.prepend, stripped),
                target: r.target.clone(),
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(pattern: &str, strip: usize, prepend: &str, target: DialTarget) -> DialRule {
        DialRule {
            pattern: pattern.into(),
            strip,
            prepend: prepend.into(),
            target,
        }
    }

    #[test]
    fn patterns() {
        assert!(matches("NXXNXXXXXX", "2125551234"));
        assert!(!matches("NXXNXXXXXX", "1125551234"));
        assert!(!matches("NXXNXXXXXX", "212555123"));
        assert!(matches("+1.", "+15551234567"));
        assert!(!matches("+1.", "+1"));
        assert!(matches("echo", "ECHO"));
        assert!(matches("*", "anything"));
        assert!(matches("011.", "01144207946000"));
        assert!(check_pattern(".1").is_err());
        assert!(check_pattern("1.2").is_err());
        assert!(check_pattern("1@").is_err());
        assert!(check_pattern("+1NXX.").is_ok());
    }

    #[test]
    fn e164_normalisation_and_rewrite() {
        let rules = vec![
            rule("600", 0, "", DialTarget::Echo),
            rule("NXXNXXXXXX", 0, "+1", DialTarget::Trunks(vec!["a".into()])),
            rule("1NXXNXXXXXX", 0, "+", DialTarget::Trunks(vec!["a".into()])),
            rule(
                "011.",
                3,
                "+",
                DialTarget::Trunks(vec!["b".into(), "a".into()]),
            ),
            rule("+.", 0, "", DialTarget::Trunks(vec!["a".into()])),
            rule("*", 0, "", DialTarget::User),
        ];
        assert_eq!(route(&rules, "600").unwrap().target, DialTarget::Echo);
        assert_eq!(
            route(&rules, "(212) 555-1234").unwrap().number,
            "+12125551234"
        );
        assert_eq!(route(&rules, "12125551234").unwrap().number, "+12125551234");
        let r = route(&rules, "011 44 20 7946 0000").unwrap();
        assert_eq!((r.rule, r.number.as_str()), (3, "+442079460000"));
        let r = route(&rules, "0044 20 7946 0000").unwrap();
        assert_eq!((r.rule, r.number.as_str()), (4, "+442079460000"));
        let r = route(&rules, "bob").unwrap();
        assert_eq!((r.target, r.number.as_str()), (DialTarget::User, "bob"));
        assert_eq!(route(&rules[..1], "601"), None);
    }
}
