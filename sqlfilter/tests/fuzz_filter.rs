//! Property tests of the CQL2 compiler (CI-sized; PROPTEST_CASES for more):
//! any text or JSON gives SQL or an error, never a panic; a literal never
//! becomes SQL text, only a bound parameter.

use catalog::{Field, FieldType};
use proptest::prelude::*;
use sqlfilter::{compile_filter, FilterLang, Param, SpatialTarget};

fn fields() -> Vec<Field> {
    let f = |n: &str, t| Field {
        name: n.into(),
        field_type: t,
        restricted: false,
        source: None,
    };
    vec![
        f("loai_dat", FieldType::Text),
        f("dien_tich", FieldType::Float8),
        f("so_to", FieldType::Int4),
        f("ngay_cap", FieldType::Date),
        f("mot_chieu", FieldType::Bool),
    ]
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Text built from CQL2's own vocabulary, so the parser gets deep.
fn cql2ish() -> impl Strategy<Value = String> {
    let words = [
        "loai_dat",
        "dien_tich",
        "so_to",
        "ngay_cap",
        "geometry",
        "ten_chu",
        "=",
        "<>",
        ">",
        "AND",
        "OR",
        "NOT",
        "IN",
        "LIKE",
        "BETWEEN",
        "IS NULL",
        "(",
        ")",
        ",",
        "S_INTERSECTS",
        "POINT(106.3 10.3)",
        "BBOX(106.3,10.3,106.4,10.4)",
        "DATE('2020-01-01')",
        "'",
        "\"",
        ";",
        "--",
    ];
    let token = prop_oneof![
        prop::sample::select(words.to_vec()).prop_map(String::from),
        "'[^']{0,12}'",
        "-?[0-9]{1,4}(\\.[0-9]{1,3})?",
        "[0-9]e[0-9]{1,3}",
        "[a-z_]{1,8}",
    ];
    prop::collection::vec(token, 1..14).prop_map(|t| t.join(" "))
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_compiles_or_errs(text in cql2ish()) {
        let fs = fields();
        let refs: Vec<&Field> = fs.iter().collect();
        let _ = compile_filter(&text, FilterLang::Cql2Text, &refs, 1, SpatialTarget::WEB_MERCATOR);
    }

    #[test]
    fn any_chars_as_text_or_json(text in "\\PC{0,80}") {
        let fs = fields();
        let refs: Vec<&Field> = fs.iter().collect();
        let _ = compile_filter(&text, FilterLang::Cql2Text, &refs, 1, SpatialTarget::WEB_MERCATOR);
        let _ = compile_filter(&text, FilterLang::Cql2Json, &refs, 1, SpatialTarget::WEB_MERCATOR);
    }

    #[test]
    fn literals_are_bound_never_pasted(v in "[^'\\\\]{0,40}") {
        let fs = fields();
        let refs: Vec<&Field> = fs.iter().collect();
        let text = format!("loai_dat = '{v}'");
        let f = compile_filter(&text, FilterLang::Cql2Text, &refs, 3, SpatialTarget::WEB_MERCATOR)
            .expect("a plain comparison compiles");
        prop_assert_eq!(f.sql, "(\"loai_dat\" = $3::text)");
        prop_assert_eq!(f.params, vec![Param::Text(v)]);
    }
}
