//! `example:strings`: strings and lists of strings across the boundary.

wit_bindgen::generate!({
    path: "wit",
    world: "strings",
});

struct Component;

impl Guest for Component {
    fn split(s: String, sep: String) -> Vec<String> {
        s.split(sep.as_str()).map(String::from).collect()
    }

    fn join(parts: Vec<String>, sep: String) -> String {
        parts.join(&sep)
    }

    fn upper(s: String) -> String {
        s.to_uppercase()
    }

    fn shout(s: String) -> (u32, u32) {
        let loud = s.to_uppercase();
        log(&loud);
        (loud.chars().count() as u32, loud.len() as u32)
    }
}

export!(Component);
