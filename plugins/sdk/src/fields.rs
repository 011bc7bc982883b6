//! Typed field builders.

use crate::bindings::mailex::extractor::types::Field;
use crate::host::normalize;
use crate::{Money, PersonName, Value};

/// The fields a plugin returns, in insertion order, one value per name (setting a name
/// again replaces its value).
///
/// The typed setters that take raw text (`email`, `phone`, `url`, `money`, `date`,
/// `name`) normalise it with the host's normaliser and return whether the value was
/// valid; an invalid value is not set.
#[derive(Debug, Clone, Default)]
pub struct Fields {
    fields: Vec<Field>,
}

impl Fields {
    /// No fields yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Set `name` to `value`, replacing an earlier value.
    pub fn set(&mut self, name: &str, value: Value) -> &mut Self {
        match self.fields.iter_mut().find(|f| f.name == name) {
            Some(f) => f.value = value,
            None => self.fields.push(Field {
                name: name.to_owned(),
                value,
            }),
        }
        self
    }

    /// Set a text field (trimmed); empty text is not set.
    pub fn text(&mut self, name: &str, value: impl AsRef<str>) -> &mut Self {
        let v = value.as_ref().trim();
        if !v.is_empty() {
            self.set(name, Value::Text(v.to_owned()));
        }
        self
    }

    /// Set a whole-number field.
    pub fn integer(&mut self, name: &str, value: i64) -> &mut Self {
        self.set(name, Value::Integer(value))
    }

    /// Set a decimal field.
    pub fn decimal(&mut self, name: &str, value: f64) -> &mut Self {
        self.set(name, Value::Decimal(value))
    }

    /// Set a boolean field.
    pub fn boolean(&mut self, name: &str, value: bool) -> &mut Self {
        self.set(name, Value::Boolean(value))
    }

    /// Set a list-of-texts field.
    pub fn texts(&mut self, name: &str, values: Vec<String>) -> &mut Self {
        self.set(name, Value::Texts(values))
    }

    /// Normalise `raw` as an email address and set it; `false` if it is not one.
    pub fn email(&mut self, name: &str, raw: &str) -> bool {
        self.normalised(name, normalize::email(raw).map(Value::Email))
    }

    /// Normalise `raw` as a phone number (E.164) and set it; `false` if it is not one.
    pub fn phone(&mut self, name: &str, raw: &str, region: Option<&str>) -> bool {
        self.normalised(name, normalize::phone(raw, region).map(Value::Phone))
    }

    /// Normalise `raw` as a URL and set it; `false` if it is not one.
    pub fn url(&mut self, name: &str, raw: &str) -> bool {
        self.normalised(name, normalize::url(raw).map(Value::Url))
    }

    /// Parse `raw` as money and set it; `false` if it is not an amount. `default_currency`
    /// (ISO 4217) applies when `raw` names no currency.
    pub fn money(&mut self, name: &str, raw: &str, default_currency: Option<&str>) -> bool {
        self.normalised(
            name,
            normalize::money(raw, default_currency).map(Value::Money),
        )
    }

    /// Set an already parsed amount.
    pub fn money_value(&mut self, name: &str, money: Money) -> &mut Self {
        self.set(name, Value::Money(money))
    }

    /// Parse `raw` as a date and set it; `false` if it is not a date. An ambiguous numeric
    /// date (`03/04/2026`) is read month first; [`Fields::date_in_order`] chooses.
    pub fn date(&mut self, name: &str, raw: &str) -> bool {
        self.normalised(name, normalize::date(raw).map(Value::Date))
    }

    /// Parse `raw` as a date, an ambiguous numeric date read in `order`, and set it; `false`
    /// if it is not a date.
    pub fn date_in_order(&mut self, name: &str, raw: &str, order: crate::DateOrder) -> bool {
        self.normalised(name, normalize::date_in_order(raw, order).map(Value::Date))
    }

    /// Normalise `raw` as a person name and set it; `false` if it is empty.
    pub fn name(&mut self, name: &str, raw: &str) -> bool {
        self.normalised(name, normalize::name(raw).map(Value::Name))
    }

    /// Set an already split person name.
    pub fn name_value(&mut self, name: &str, value: PersonName) -> &mut Self {
        self.set(name, Value::Name(value))
    }

    fn normalised(&mut self, name: &str, value: Option<Value>) -> bool {
        match value {
            Some(v) => {
                self.set(name, v);
                true
            }
            None => false,
        }
    }

    /// The value of `name`, if set.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|f| f.name == name)
            .map(|f| &f.value)
    }

    /// Whether `name` is set.
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Remove `name`, returning its value.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let i = self.fields.iter().position(|f| f.name == name)?;
        Some(self.fields.remove(i).value)
    }

    /// Number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether no field is set.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The fields in insertion order, as the contract's type.
    pub fn into_vec(self) -> Vec<Field> {
        self.fields
    }
}
