//! Server-rendered pages, Chinese first with English. Rendering is pure: a view in, HTML out; every
//! piece of data goes through [`escape`] on its way into the page.

use chrono::NaiveDate;
use jiamao_domain::report::{BalanceReport, ReconcileReport};
use std::fmt::Write as _;

/// The site's title.
pub(crate) const TITLE: &str = "加贸 Jiamao — 加工贸易保税账册";

/// Escapes text for HTML element content and quoted attribute values.
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Percent-encodes a value for one path segment of a URL (everything but RFC 3986 unreserved).
pub(crate) fn path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

const STYLE: &str = "\
body{font-family:system-ui,-apple-system,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;margin:0;color:#1f2328;background:#f6f8fa;line-height:1.5}
header{background:#0b3d66;color:#fff;padding:.8rem 1.5rem}
header a{color:#fff;text-decoration:none;font-weight:600;font-size:1.15rem}
main{max-width:72rem;margin:1.5rem auto;padding:0 1.5rem}
h1{font-size:1.5rem;margin:.2rem 0 1rem}
h2{font-size:1.15rem;margin:1.8rem 0 .6rem}
.en{color:#57606a;font-weight:normal}
.scroll{overflow-x:auto}
table{border-collapse:collapse;background:#fff;border:1px solid #d0d7de;font-size:.92rem}
th,td{border:1px solid #d0d7de;padding:.35rem .6rem;text-align:left;vertical-align:top}
th{background:#eef2f6;font-weight:600;white-space:nowrap}
th small{display:block;font-weight:normal;color:#57606a}
tbody tr:nth-child(even){background:#f9fbfc}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;background:#fff;border:1px solid #d0d7de;padding:.8rem 1rem;margin:0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0}
p.note{color:#57606a;font-size:.9rem}
footer{max-width:72rem;margin:2rem auto;padding:1rem 1.5rem;border-top:1px solid #d0d7de;color:#57606a;font-size:.85rem}
code{background:#eef2f6;padding:0 .25rem;border-radius:3px}
";

/// A whole page around `body` (already HTML).
fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{title}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<header><a href=\"/\">{site}</a></header>\n<main>\n{body}</main>\n<footer>接口 API: <a href=\"/api/v1/books\"><code>/api/v1</code></a> · 接口说明 OpenAPI: <a href=\"/api/openapi.json\"><code>/api/openapi.json</code></a> · 数据格式见 FORMAT.md (interchange format)</footer>\n</body>\n</html>\n",
        title = escape(title),
        site = escape(TITLE),
    )
}

/// A table header cell: Chinese label with the English one below it.
fn th(zh: &str, en: &str, numeric: bool) -> String {
    let class = if numeric { " class=\"num\"" } else { "" };
    format!("<th{class}>{}<small>{}</small></th>", escape(zh), escape(en))
}

fn td(text: &str) -> String {
    format!("<td>{}</td>", escape(text))
}

fn td_num(text: &str) -> String {
    format!("<td class=\"num\">{}</td>", escape(text))
}

/// `GET /login`: the login form (posts to `/login`; no script needed).
pub(crate) fn login(error: Option<&str>, next: &str) -> String {
    let error = error.map(|e| format!("<p class=\"note\" role=\"alert\" style=\"color:#b42318\">{}</p>\n", escape(e))).unwrap_or_default();
    let body = format!(
        "<h1>登录 <span class=\"en\">Log in</span></h1>\n{error}<form method=\"post\" action=\"/login\" style=\"display:grid;gap:.6rem;max-width:22rem\">\n<input type=\"hidden\" name=\"next\" value=\"{next}\">\n<label>账号 <span class=\"en\">Login</span><br><input name=\"login\" autocomplete=\"username\" required autofocus></label>\n<label>密码 <span class=\"en\">Password</span><br><input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\n<button type=\"submit\">登录 Log in</button>\n</form>\n",
        next = escape(next)
    );
    page("登录 Log in — 加贸 Jiamao", &body)
}

/// One row of the books table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BookRow {
    pub book_no: String,
    pub revision: u32,
}

/// `GET /`: the books.
pub(crate) fn index(books: &[BookRow]) -> String {
    let mut body = format!("<h1>{}</h1>\n<h2>账册 <span class=\"en\">Books</span></h2>\n", escape(TITLE));
    if books.is_empty() {
        body.push_str("<p class=\"note\">尚无账册。No books yet: file one with <code>jiamao book import &lt;file&gt;</code> or <code>POST /api/v1/books</code>.</p>\n");
    } else {
        body.push_str("<table>\n<thead><tr>");
        body.push_str(&th("账册编号", "Book", false));
        body.push_str(&th("版本", "Revision", true));
        body.push_str("</tr></thead>\n<tbody>\n");
        for b in books {
            let _ =
                writeln!(body, "<tr><td><a href=\"/books/{href}\">{no}</a></td>{rev}</tr>", href = escape(&path_segment(&b.book_no)), no = escape(&b.book_no), rev = td_num(&b.revision.to_string()),);
        }
        body.push_str("</tbody>\n</table>\n");
    }
    page(TITLE, &body)
}

/// A 料件 or 成品 as the book page names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ItemView {
    pub seq: u32,
    pub part_no: String,
    pub name: String,
    pub unit: String,
}

/// Everything `GET /books/{book_no}` shows, read from the engine under one lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BookView {
    pub book_no: String,
    pub revision: Option<u32>,
    pub book_type: String,
    pub family: String,
    pub operator: String,
    pub master_customs: String,
    pub zone: Option<String>,
    pub valid_from: NaiveDate,
    pub valid_until: NaiveDate,
    pub lists_posted: u64,
    pub lines_posted: u64,
    pub pending_lines: usize,
    pub materials: Vec<ItemView>,
    pub products: Vec<ItemView>,
    pub balance: BalanceReport,
    pub reconcile: ReconcileReport,
}

fn item_name(items: &[ItemView], seq: u32) -> &str {
    items.iter().find(|i| i.seq == seq).map_or("", |i| i.name.as_str())
}

fn item_unit(items: &[ItemView], seq: u32) -> &str {
    items.iter().find(|i| i.seq == seq).map_or("", |i| i.unit.as_str())
}

/// `GET /books/{book_no}`: the book's facts, balances (余额) and the 报核 figures.
pub(crate) fn book(v: &BookView) -> String {
    let no = escape(&v.book_no);
    let href = escape(&path_segment(&v.book_no));
    let mut body = format!("<h1>账册 <span class=\"en\">Book</span> {no}</h1>\n<dl class=\"facts\">\n");
    let mut fact = |zh: &str, en: &str, value: &str| {
        let _ = writeln!(body, "<dt>{} <span class=\"en\">{}</span></dt><dd>{}</dd>", escape(zh), escape(en), escape(value));
    };
    fact("版本", "Revision", &v.revision.map_or_else(String::new, |r| r.to_string()));
    fact("类型", "Type", &v.book_type);
    fact("加工贸易方式", "Processing mode", &v.family);
    fact("经营企业", "Operator", &v.operator);
    fact("主管关区", "Master customs", &v.master_customs);
    if let Some(zone) = &v.zone {
        fact("特殊监管区域", "Zone", zone);
    }
    fact("有效期", "Valid", &format!("{} — {}", v.valid_from, v.valid_until));
    fact("已核注清单", "Lists posted", &format!("{} ({} 项 lines)", v.lists_posted, v.lines_posted));
    if v.pending_lines > 0 {
        fact("单耗待申报", "Lines pending 单耗", &v.pending_lines.to_string());
    }
    body.push_str("</dl>\n");

    let _ = write!(
        body,
        "<h2>料件余额 <span class=\"en\">Material balances</span></h2>\n<table>\n<thead><tr>{}{}{}{}{}</tr></thead>\n<tbody>\n",
        th("料件序号", "Material seq", true),
        th("料号", "Part no.", false),
        th("名称", "Name", false),
        th("单位", "Unit", false),
        th("余额", "Balance", true)
    );
    for m in &v.balance.materials {
        let part_no = v.materials.iter().find(|i| i.seq == m.seq).map_or("", |i| i.part_no.as_str());
        let _ = writeln!(body, "<tr>{}{}{}{}{}</tr>", td_num(&m.seq.to_string()), td(part_no), td(item_name(&v.materials, m.seq)), td(item_unit(&v.materials, m.seq)), td_num(&m.balance));
    }
    body.push_str("</tbody>\n</table>\n");

    body.push_str("<h2>报核 <span class=\"en\">Reconciliation — materials</span></h2>\n<div class=\"scroll\">\n<table>\n<thead><tr>");
    for (zh, en, numeric) in [
        ("序号", "Seq", true),
        ("名称", "Name", false),
        ("期初", "Opening", true),
        ("进口", "Imported", true),
        ("深加工结转进", "Carried in", true),
        ("余料结转进", "Surplus in", true),
        ("退换进", "Replaced in", true),
        ("消耗", "Consumed", true),
        ("内销", "Domestic sold", true),
        ("复出口", "Re-exported", true),
        ("退换出", "Replaced out", true),
        ("余料结转出", "Surplus out", true),
        ("销毁", "Destroyed", true),
        ("边角料产生", "Leftover accrued", true),
        ("边角料处置", "Leftover disposed", true),
        ("应剩余", "Should remain", true),
    ] {
        body.push_str(&th(zh, en, numeric));
    }
    body.push_str("</tr></thead>\n<tbody>\n");
    for m in &v.reconcile.materials {
        body.push_str("<tr>");
        body.push_str(&td_num(&m.seq.to_string()));
        body.push_str(&td(item_name(&v.materials, m.seq)));
        for figure in [
            &m.opening,
            &m.imported,
            &m.carried_in,
            &m.surplus_in,
            &m.replaced_in,
            &m.consumed,
            &m.domestic_sold,
            &m.re_exported,
            &m.replaced_out,
            &m.surplus_out,
            &m.destroyed,
            &m.leftover_accrued,
            &m.leftover_disposed,
            &m.should_remain,
        ] {
            body.push_str(&td_num(figure));
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</tbody>\n</table>\n</div>\n");

    body.push_str("<h2>报核 <span class=\"en\">Reconciliation — products</span></h2>\n<div class=\"scroll\">\n<table>\n<thead><tr>");
    for (zh, en, numeric) in [
        ("序号", "Seq", true),
        ("名称", "Name", false),
        ("出口", "Exported", true),
        ("深加工结转出", "Carried out", true),
        ("内销", "Domestic sold", true),
        ("退换", "Returned", true),
        ("退换复出", "Re-exported", true),
        ("销毁", "Destroyed", true),
    ] {
        body.push_str(&th(zh, en, numeric));
    }
    body.push_str("</tr></thead>\n<tbody>\n");
    for p in &v.reconcile.products {
        body.push_str("<tr>");
        body.push_str(&td_num(&p.seq.to_string()));
        body.push_str(&td(item_name(&v.products, p.seq)));
        for figure in [&p.exported, &p.carried_out, &p.domestic_sold, &p.returned, &p.reexported, &p.destroyed] {
            body.push_str(&td_num(figure));
        }
        body.push_str("</tr>\n");
    }
    body.push_str("</tbody>\n</table>\n</div>\n");

    let _ = writeln!(
        body,
        "<p class=\"note\">数量按备案计量单位，四舍五入至 5 位小数。Quantities in each item's unit, rounded to 5 places. \
         实际剩余与差异需盘点：Actual remain and difference need a stocktake: <code>POST /api/v1/books/{href}/reconcile</code>. \
         JSON: <a href=\"/api/v1/books/{href}/balance\">balance</a> · <a href=\"/api/v1/books/{href}/reconcile\">reconcile</a></p>"
    );
    page(&format!("账册 {} — {}", v.book_no, TITLE), &body)
}

/// An error page: what went wrong, in the same frame.
pub(crate) fn error(heading_zh: &str, heading_en: &str, message: &str) -> String {
    let body = format!("<h1>{} <span class=\"en\">{}</span></h1>\n<p>{}</p>\n<p><a href=\"/\">返回账册列表 Back to the books</a></p>\n", escape(heading_zh), escape(heading_en), escape(message));
    page(&format!("{heading_zh} — {TITLE}"), &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_covers_markup_and_quotes() {
        assert_eq!(escape(r#"<a href="x">&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
        assert_eq!(escape("低密度聚乙烯 LDPE"), "低密度聚乙烯 LDPE");
    }

    #[test]
    fn path_segments_are_percent_encoded() {
        assert_eq!(path_segment("C52002600001"), "C52002600001");
        assert_eq!(path_segment("a/b c?#\"<"), "a%2Fb%20c%3F%23%22%3C");
        assert_eq!(path_segment("账"), "%E8%B4%A6");
    }

    #[test]
    fn index_escapes_book_numbers() {
        let html = index(&[BookRow { book_no: "<script>x</script>".into(), revision: 2 }]);
        assert!(!html.contains("<script>"), "{html}");
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains("href=\"/books/%3Cscript%3Ex%3C%2Fscript%3E\""));
        assert!(html.contains(TITLE));
    }

    #[test]
    fn empty_index_says_how_to_start() {
        let html = index(&[]);
        assert!(html.contains("No books yet"));
        assert!(html.contains("/api/openapi.json"));
    }
}
