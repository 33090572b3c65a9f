//! Tokenizer and parser for the string form of label selectors:
//!
//! ```text
//! selector    := requirement ("," requirement)*  | ""
//! requirement := ["!"] KEY [ ("in" | "notin") "(" VALUE ("," VALUE)* ")" | ("=" | "==" | "!=" | ">" | "<") VALUE ]
//! ```
//! Whitespace separates tokens and is otherwise ignored. Empty values are allowed (`a=`,
//! `a in (,b)`), as in Kubernetes.

use super::label::{LabelOperator, LabelRequirement};
use super::SelectorError;

#[derive(Clone, Debug, PartialEq, Eq)]
enum Token {
    Identifier(String),
    In,
    NotIn,
    Bang,
    Equals,
    DoubleEquals,
    NotEquals,
    GreaterThan,
    LessThan,
    OpenParen,
    CloseParen,
    Comma,
    End,
}

impl Token {
    fn describe(&self) -> String {
        match self {
            Token::Identifier(s) => s.clone(),
            Token::In => "in".into(),
            Token::NotIn => "notin".into(),
            Token::Bang => "!".into(),
            Token::Equals => "=".into(),
            Token::DoubleEquals => "==".into(),
            Token::NotEquals => "!=".into(),
            Token::GreaterThan => ">".into(),
            Token::LessThan => "<".into(),
            Token::OpenParen => "(".into(),
            Token::CloseParen => ")".into(),
            Token::Comma => ",".into(),
            Token::End => "".into(),
        }
    }

    /// Where a value is expected, the keywords `in`/`notin` are plain words (`a in (in)`).
    fn as_value(&self) -> Option<String> {
        match self {
            Token::Identifier(s) => Some(s.clone()),
            Token::In => Some("in".into()),
            Token::NotIn => Some("notin".into()),
            _ => None,
        }
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<')
}

fn is_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn tokenize(input: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if is_space(c) {
            chars.next();
        } else if is_special(c) {
            chars.next();
            let next_is_eq = chars.peek() == Some(&'=');
            let token = match c {
                '=' if next_is_eq => Token::DoubleEquals,
                '!' if next_is_eq => Token::NotEquals,
                '=' => Token::Equals,
                '!' => Token::Bang,
                '>' => Token::GreaterThan,
                '<' => Token::LessThan,
                '(' => Token::OpenParen,
                ')' => Token::CloseParen,
                _ => Token::Comma,
            };
            if matches!(token, Token::DoubleEquals | Token::NotEquals) {
                chars.next();
            }
            tokens.push(token);
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if is_space(c) || is_special(c) {
                    break;
                }
                word.push(c);
                chars.next();
            }
            tokens.push(match word.as_str() {
                "in" => Token::In,
                "notin" => Token::NotIn,
                _ => Token::Identifier(word),
            });
        }
    }
    tokens.push(Token::End);
    tokens
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
}

impl Parser {
    fn peek(&self) -> &Token {
        self.tokens.get(self.position).unwrap_or(&Token::End)
    }

    fn next(&mut self) -> Token {
        let token = self.peek().clone();
        if self.position < self.tokens.len() {
            self.position += 1;
        }
        token
    }

    fn selector(&mut self) -> Result<Vec<LabelRequirement>, SelectorError> {
        let mut requirements = Vec::new();
        if *self.peek() == Token::End {
            return Ok(requirements);
        }
        loop {
            match self.peek() {
                Token::Bang => {}
                t if t.as_value().is_some() => {}
                other => {
                    return Err(SelectorError::new(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        other.describe()
                    )));
                }
            }
            let requirement = self
                .requirement()
                .map_err(|e| e.context("unable to parse requirement"))?;
            requirements.push(requirement);
            match self.next() {
                Token::End => return Ok(requirements),
                Token::Comma => match self.peek() {
                    Token::Bang => {}
                    t if t.as_value().is_some() => {}
                    other => {
                        return Err(SelectorError::new(format!(
                            "found '{}', expected: identifier after ','",
                            other.describe()
                        )));
                    }
                },
                other => {
                    return Err(SelectorError::new(format!(
                        "found '{}', expected: ',' or 'end of string'",
                        other.describe()
                    )));
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<LabelRequirement, SelectorError> {
        let negated = *self.peek() == Token::Bang;
        if negated {
            self.next();
        }
        let token = self.next();
        let Some(key) = token.as_value() else {
            return Err(SelectorError::new(format!(
                "found '{}', expected: identifier",
                token.describe()
            )));
        };
        super::label_syntax::validate_label_key(&key)?;
        if matches!(self.peek(), Token::End | Token::Comma) {
            let operator = if negated {
                LabelOperator::DoesNotExist
            } else {
                LabelOperator::Exists
            };
            return LabelRequirement::new(&key, operator, Vec::new());
        }
        if negated {
            // `!key` takes no operator; the caller reports what follows.
            return LabelRequirement::new(&key, LabelOperator::DoesNotExist, Vec::new());
        }
        let operator = match self.next() {
            Token::In => LabelOperator::In,
            Token::NotIn => LabelOperator::NotIn,
            Token::Equals => LabelOperator::Equals,
            Token::DoubleEquals => LabelOperator::DoubleEquals,
            Token::NotEquals => LabelOperator::NotEquals,
            Token::GreaterThan => LabelOperator::GreaterThan,
            Token::LessThan => LabelOperator::LessThan,
            other => {
                return Err(SelectorError::new(format!(
                    "found '{}', expected: in, notin, =, ==, !=, gt, lt",
                    other.describe()
                )));
            }
        };
        let values = match operator {
            LabelOperator::In | LabelOperator::NotIn => self.value_set()?,
            _ => vec![self.exact_value()?],
        };
        LabelRequirement::new(&key, operator, values)
    }

    /// `(a,b,c)`; empty entries (`(,a)`, `()`) stand for the empty value.
    fn value_set(&mut self) -> Result<Vec<String>, SelectorError> {
        let open = self.next();
        if open != Token::OpenParen {
            return Err(SelectorError::new(format!(
                "found '{}' expected: '('",
                open.describe()
            )));
        }
        let mut values = Vec::new();
        let mut expecting_value = true;
        loop {
            let token = self.next();
            match token {
                Token::CloseParen => {
                    if expecting_value {
                        values.push(String::new());
                    }
                    return Ok(values);
                }
                Token::Comma => {
                    if expecting_value {
                        values.push(String::new());
                    }
                    expecting_value = true;
                }
                t if expecting_value && t.as_value().is_some() => {
                    values.extend(t.as_value());
                    expecting_value = false;
                }
                other => {
                    let expected = if expecting_value {
                        "',', ')' or identifier"
                    } else {
                        "',' or ')'"
                    };
                    return Err(SelectorError::new(format!(
                        "found '{}', expected: {expected}",
                        other.describe()
                    )));
                }
            }
        }
    }

    /// The value after `=`, `==`, `!=`, `>` or `<`; nothing before `,`/end means the empty value.
    fn exact_value(&mut self) -> Result<String, SelectorError> {
        if matches!(self.peek(), Token::End | Token::Comma) {
            return Ok(String::new());
        }
        let token = self.next();
        token.as_value().ok_or_else(|| {
            SelectorError::new(format!(
                "found '{}', expected: identifier",
                token.describe()
            ))
        })
    }
}

/// Parses a selector string into its requirements (in written order).
pub(super) fn parse(input: &str) -> Result<Vec<LabelRequirement>, SelectorError> {
    let tokens = tokenize(input);
    Parser {
        tokens,
        position: 0,
    }
    .selector()
}
