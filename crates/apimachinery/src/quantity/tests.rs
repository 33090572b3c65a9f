use super::*;
use serde_json::json;

fn q(s: &str) -> Quantity {
    Quantity::parse(s).unwrap_or_else(|e| panic!("{s:?} should parse: {e}"))
}
fn milli(s: &str) -> i64 {
    q(s).milli_value()
}
fn value(s: &str) -> i64 {
    q(s).value()
}

#[test]
fn decimal_forms_in_millis() {
    assert_eq!(milli("100m"), 100);
    assert_eq!(milli("1"), 1000);
    assert_eq!(milli("2"), 2000);
    assert_eq!(milli("0.5"), 500);
    assert_eq!(milli("1.5"), 1500);
    assert_eq!(milli("0.1"), 100);
    assert_eq!(milli(".25"), 250);
    assert_eq!(milli("2."), 2000);
    assert_eq!(milli("1.5k"), 1_500_000);
    assert_eq!(milli("250000u"), 250);
    assert_eq!(milli("+3"), 3000);
    assert_eq!(milli("-250m"), -250);
    assert_eq!(milli("0"), 0);
    assert_eq!(milli("0m"), 0);
}

#[test]
fn suffixes_in_units() {
    assert_eq!(value("1Ki"), 1024);
    assert_eq!(value("512Mi"), 512 << 20);
    assert_eq!(value("64Mi"), 64 << 20);
    assert_eq!(value("123Mi"), 123 * 1024 * 1024);
    assert_eq!(value("1Gi"), 1 << 30);
    assert_eq!(value("1.5Gi"), 1_610_612_736);
    assert_eq!(value("0.5Ki"), 512);
    assert_eq!(value("1Ti"), 1 << 40);
    assert_eq!(value("1Pi"), 1 << 50);
    assert_eq!(value("1Ei"), 1 << 60);
    assert_eq!(value("128974848"), 128_974_848);
    assert_eq!(value("1k"), 1000);
    assert_eq!(value("2k"), 2000);
    assert_eq!(value("129M"), 129_000_000);
    assert_eq!(value("1G"), 1_000_000_000);
    assert_eq!(value("1T"), 1_000_000_000_000);
    assert_eq!(value("1P"), 1_000_000_000_000_000);
    assert_eq!(value("1E"), 1_000_000_000_000_000_000);
    assert_eq!(q("1n").nanos(), 1);
    assert_eq!(q("1u").nanos(), 1000);
}

#[test]
fn exponents() {
    assert_eq!(value("1e3"), 1000);
    assert_eq!(value("1E3"), 1000);
    assert_eq!(value("1e+3"), 1000);
    assert_eq!(value("129e6"), 129_000_000);
    assert_eq!(value("1.5e3"), 1500);
    assert_eq!(milli("1e-3"), 1);
    assert_eq!(milli("5E-1"), 500);
    assert_eq!(value("0e999"), 0);
    assert_eq!(q("1e-999").nanos(), 1, "sub-nano values round up to 1n");
}

#[test]
fn equal_values_in_different_forms_compare_equal() {
    assert_eq!(q("1Gi"), q("1073741824"));
    assert_eq!(q("500m"), q("0.5"));
    assert_eq!(q("1k"), q("1e3"));
    assert_eq!(q("1.5"), q("1500m"));
    assert_eq!(q("1000u"), q("1m"));
    assert!(q("2") > q("1900m"));
    assert!(q("-1") < q("0"));
    let mut sorted = vec![q("1Ki"), q("1k"), q("-1"), q("1m")];
    sorted.sort();
    assert_eq!(sorted, vec![q("-1"), q("1m"), q("1k"), q("1Ki")]);
}

#[test]
fn rounding_up_is_away_from_zero() {
    assert_eq!(milli("1n"), 1, "sub-milli values round up");
    assert_eq!(milli("1u"), 1);
    assert_eq!(milli("0.0001"), 1);
    assert_eq!(value("1.5"), 2, "Value() rounds up");
    assert_eq!(value("100m"), 1);
    assert_eq!(value("100n"), 1);
    // Go's Value()/MilliValue() round a negative fraction away from zero too.
    assert_eq!(value("-1.5"), -2);
    assert_eq!(milli("-1n"), -1);
    // Precision below 1n is rounded up when parsing, keeping the sign.
    assert_eq!(q("0.1n").nanos(), 1);
    assert_eq!(q("-0.1n").nanos(), -1);
    assert_eq!(q("1.0000000001").nanos(), 1_000_000_001);
    // Many digits past the nano position are read exactly, not truncated.
    assert_eq!(
        q("0.1000000000000000000000000000000000000000001").nanos(),
        100_000_001
    );
    assert_eq!(
        q("0.10000000000000000000000000000000000000000000").nanos(),
        100_000_000
    );
}

#[test]
fn signs() {
    assert_eq!(value("+5"), 5);
    assert_eq!(value("-5"), -5);
    assert!(q("-5").is_negative());
    assert!(q("-1").is_negative());
    assert!(!q("-0").is_negative() && q("-0").is_zero());
    assert!(!q("0.5").is_negative());
}

#[test]
fn zero_integer_and_arithmetic() {
    assert!(Quantity::zero().is_zero() && q("0m").is_zero() && !q("1n").is_zero());
    assert!(q("1").is_integer() && q("2k").is_integer() && q("-3").is_integer());
    assert!(!q("100m").is_integer() && !q("1.000000001").is_integer());
    assert_eq!(q("250m").saturating_add(&q("1.75")), q("2"));
    assert_eq!(q("1").checked_add(&q("-3")), Some(q("-2")));
    let max = Quantity::from_nanos(i128::MAX);
    assert_eq!(max.checked_add(&q("1n")), None);
    assert_eq!(max.saturating_add(&q("1")), max);
    assert_eq!(Quantity::default(), Quantity::zero());
}

#[test]
fn binary_quantities_are_capped_at_int64_max() {
    assert_eq!(value("8Ei"), i64::MAX);
    assert_eq!(q("8Ei"), q("9223372036854775807"));
    assert_eq!(q("16Ei"), q("8Ei"));
    assert_eq!(q("100000000000000000000000000000000000000000Ki"), q("8Ei"));
    assert_eq!(
        q("0.5Ei"),
        Quantity::from_nanos((1i128 << 59) * 1_000_000_000)
    );
    assert_eq!(q("-16Ei"), Quantity::from_nanos(-q("8Ei").nanos()));
    assert_eq!(
        value("7Ei"),
        7 << 60,
        "below the cap binary values are exact"
    );
}

#[test]
fn scaled_values_saturate_at_the_i64_range() {
    assert_eq!(milli("9E"), i64::MAX);
    assert_eq!(milli("-9E"), i64::MIN);
    assert_eq!(value("1e25"), i64::MAX);
    assert_eq!(
        q("1e25").nanos(),
        10i128.pow(34),
        "the quantity itself stays exact"
    );
}

#[test]
fn out_of_range_is_an_error() {
    assert_eq!(
        q("170141183460469231731687303715").nanos(),
        170_141_183_460_469_231_731_687_303_715_000_000_000
    );
    assert!(q("-170141183460469231731687303715").is_negative());
    for big in [
        "170141183460469231731687303716",
        "1e999",
        "1e99",
        "-1e30",
        "9999999999999999999999999999999999999999",
        "1000000000000000000000000000000000000000000m",
    ] {
        let e = Quantity::parse(big).unwrap_err();
        assert_eq!(
            e,
            QuantityError::OutOfRange { input: big.into() },
            "{big:?}"
        );
        assert_eq!(e.validation_message(), QUANTITY_RANGE_MSG);
        assert!(e.to_string().contains(big), "{e}");
    }
}

#[test]
fn malformed_inputs_are_rejected() {
    for bad in [
        "",
        " ",
        "abc",
        "1.2.3",
        "1Gb",
        "1ii",
        "1Zi",
        "1Xi",
        "1Q",
        "1K",
        ".",
        "m",
        "Gi",
        "-",
        "+",
        "1e",
        "1e+",
        "1ee3",
        "--1",
        "+-1",
        "1 Gi",
        "12 GB",
        "1e3.5",
        "0x10",
        "1,5",
        "١",
        "1e99999999999999999999",
    ] {
        match Quantity::parse(bad) {
            Err(e @ QuantityError::Malformed { .. }) => {
                assert_eq!(e.input(), bad);
                assert_eq!(e.validation_message(), QUANTITY_FORMAT_MSG);
            }
            other => panic!("{bad:?} should be malformed, got {other:?}"),
        }
    }
    let e = Quantity::parse("12xy").unwrap_err();
    assert_eq!(
        e.to_string(),
        "quantity \"12xy\" is invalid: unknown suffix"
    );
}

#[test]
fn surrounding_whitespace_is_ignored_as_in_json_decoding() {
    assert_eq!(q(" 1Gi "), q("1Gi"));
    assert_eq!(q("\t100m\n"), q("100m"));
}

#[test]
fn from_str_and_json() {
    assert_eq!("64Mi".parse::<Quantity>(), Ok(q("64Mi")));
    assert_eq!(Quantity::from_json(&json!("500m")), Ok(q("500m")));
    assert_eq!(Quantity::from_json(&json!(2)), Ok(q("2")));
    assert_eq!(Quantity::from_json(&json!(0.5)), Ok(q("500m")));
    assert_eq!(Quantity::from_json(&json!(-3)), Ok(q("-3")));
    for bad in [
        json!(true),
        json!(null),
        json!(["1"]),
        json!({"a": 1}),
        json!("x"),
    ] {
        assert!(Quantity::from_json(&bad).is_err(), "{bad}");
    }
}

#[test]
fn display_is_exact_decimal() {
    assert_eq!(q("1.5").to_string(), "1.5");
    assert_eq!(q("1n").to_string(), "0.000000001");
    assert_eq!(q("-2").to_string(), "-2");
    assert_eq!(q("1Ki").to_string(), "1024");
    assert_eq!(q("250m").to_string(), "0.25");
    assert_eq!(Quantity::zero().to_string(), "0");
}
