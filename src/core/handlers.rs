//! Client methods the server may call, by name.
//!
//! Names match case-insensitively, as in the official client, with one deliberate difference:
//! only ASCII letters are folded (`A`-`Z` to `a`-`z`); other characters must match exactly.
//! The official client folds with JavaScript's full Unicode `toLowerCase` (and ASP.NET Core
//! names hub methods with `OrdinalIgnoreCase`), but hub method names are C# identifiers, in
//! practice ASCII, and full case folding would bring the Unicode case tables into the wasm
//! module. Lookups compare in place, without lower-casing a copy of each incoming name.
//!
//! The handler type is the shell's (a JavaScript function in the browser, anything comparable
//! in tests), so the core stays free of browser types.
//!
//! Each name's handlers are one shared list ([`Handlers`]): an incoming invocation takes the
//! list as it is then (a handler that calls `off` or `on` does not change who gets the message
//! being delivered, as with the official client's copy of its list) without copying it per
//! message; `add` and `remove`, which are rare, copy the list only while a delivery holds it.

use std::rc::Rc;

/// The handlers of one name, as an invocation is delivered to them.
pub type Handlers<H> = Rc<Vec<H>>;

/// Handlers registered per method name, in registration order.
#[derive(Debug, Clone)]
pub struct HandlerRegistry<H> {
    /// Names ASCII-lower-cased, each once, with their handlers (never an empty list).
    entries: Vec<(String, Handlers<H>)>,
}

impl<H> Default for HandlerRegistry<H> {
    fn default() -> Self {
        HandlerRegistry { entries: Vec::new() }
    }
}

impl<H: Clone + PartialEq> HandlerRegistry<H> {
    fn slot(&mut self, name: &str) -> Option<&mut Handlers<H>> {
        self.entries.iter_mut().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, h)| h)
    }

    /// Adds `handler` for `name`. Adding the same handler twice for one name is a no-op, as in
    /// the official client.
    pub fn add(&mut self, name: &str, handler: H) {
        match self.slot(name) {
            Some(handlers) if handlers.contains(&handler) => {}
            Some(handlers) => Rc::make_mut(handlers).push(handler),
            None => self.entries.push((name.to_ascii_lowercase(), Rc::new(vec![handler]))),
        }
    }

    /// Removes one handler of `name`, or all of them when `handler` is `None`.
    pub fn remove(&mut self, name: &str, handler: Option<&H>) {
        match handler {
            None => self.entries.retain(|(n, _)| !n.eq_ignore_ascii_case(name)),
            Some(handler) => {
                if let Some(handlers) = self.slot(name) {
                    Rc::make_mut(handlers).retain(|h| h != handler);
                }
                self.entries.retain(|(_, h)| !h.is_empty());
            }
        }
    }

    /// The handlers for `name`, in registration order (empty when none): the shared list, not a
    /// copy.
    pub fn get(&self, name: &str) -> Handlers<H> {
        self.entries.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, h)| h.clone()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_case_insensitively() {
        let mut registry = HandlerRegistry::default();
        registry.add("ReceiveMessage", 1);
        assert_eq!(**registry.get("receivemessage"), [1]);
        assert_eq!(**registry.get("RECEIVEMESSAGE"), [1]);
    }

    #[test]
    fn only_ascii_letters_are_folded() {
        let mut registry = HandlerRegistry::default();
        registry.add("Grüße", 1);
        assert!(registry.get("GRüSSE").is_empty(), "ß is not ASCII: no special folding");
        assert_eq!(**registry.get("grüße"), [1]);
        assert_eq!(**registry.get("GRüßE"), [1]);
        // The official client would match these (JavaScript's toLowerCase folds Ü to ü).
        assert!(registry.get("GRÜßE").is_empty());
        registry.add("ÉCLAIR", 2);
        assert!(registry.get("éclair").is_empty());
        assert_eq!(**registry.get("Éclair"), [2]);
        registry.remove("Éclair", None);
        assert!(registry.get("ÉCLAIR").is_empty());
    }

    #[test]
    fn the_same_handler_is_registered_once_and_order_is_kept() {
        let mut registry = HandlerRegistry::default();
        registry.add("a", 1);
        registry.add("A", 2);
        registry.add("a", 1);
        assert_eq!(**registry.get("a"), [1, 2]);
    }

    #[test]
    fn remove_one_or_all() {
        let mut registry = HandlerRegistry::default();
        registry.add("a", 1);
        registry.add("a", 2);
        registry.remove("A", Some(&1));
        assert_eq!(**registry.get("a"), [2]);
        registry.remove("a", None);
        assert!(registry.get("a").is_empty());
        registry.remove("missing", Some(&3));
    }

    #[test]
    fn a_list_taken_for_a_delivery_is_not_changed_by_later_registrations() {
        let mut registry = HandlerRegistry::default();
        registry.add("a", 1);
        registry.add("a", 2);
        let delivering = registry.get("a");
        assert!(Rc::ptr_eq(&delivering, &registry.get("A")), "taking the list twice shares it: no copy per message");
        registry.remove("a", Some(&1));
        registry.add("a", 3);
        assert_eq!(*delivering, [1, 2]);
        assert_eq!(**registry.get("a"), [2, 3]);
    }
}
