//! A large component for the compile-time benchmark: `regex` (with its Unicode
//! tables) and `pulldown-cmark`, kept alive by two exports.

wit_bindgen::generate!({ world: "big", path: "wit" });

struct Big;

impl Guest for Big {
    fn is_match(pattern: String, text: String) -> Result<bool, String> {
        let re = regex::Regex::new(&pattern).map_err(|e| e.to_string())?;
        Ok(re.is_match(&text))
    }

    fn markdown(markdown: String) -> String {
        let mut html = String::new();
        pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new(&markdown));
        html
    }
}

export!(Big);
