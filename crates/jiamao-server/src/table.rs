//! The one helper of every long table of the pages: sorted and paged on the server from the query
//! (`?page=&per=&sort=&order=`), so that a table of thousands of rows sends one page of them. The
//! header cells of sortable columns are links (keyboard reachable) that say their order
//! (`aria-sort`); the pager is a navigation landmark with previous/next links and a small form to
//! jump to a page or change the page size. Every other query parameter (a page's filters) is kept in
//! every link. Pure: a query in, HTML out.

use crate::html::{escape, Chrome};
use crate::i18n::fill;
use jiamao_domain::Decimal;
use std::cmp::Ordering;
use std::fmt::Write as _;

/// Rows per page unless `per` says otherwise.
pub(crate) const PER_DEFAULT: usize = 50;
/// The page sizes offered.
const PER_CHOICES: [usize; 5] = [20, 50, 100, 200, 500];
/// The largest page size accepted.
const PER_MAX: usize = 500;

/// The order of a sorted column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Order {
    Asc,
    Desc,
}

impl Order {
    fn as_str(self) -> &'static str {
        match self {
            Order::Asc => "asc",
            Order::Desc => "desc",
        }
    }

    fn flip(self) -> Order {
        match self {
            Order::Asc => Order::Desc,
            Order::Desc => Order::Asc,
        }
    }
}

/// A column of a table: its sort name (empty: not sortable), its heading (a translation key) and
/// whether it holds numbers (right-aligned).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Col {
    pub sort: &'static str,
    pub label: &'static str,
    pub numeric: bool,
}

/// A sortable column.
pub(crate) const fn col(sort: &'static str, label: &'static str, numeric: bool) -> Col {
    Col { sort, label, numeric }
}

/// A column that does not sort.
pub(crate) const fn fixed(label: &'static str, numeric: bool) -> Col {
    Col { sort: "", label, numeric }
}

/// The sorting and paging a request asked for, and the query it keeps in its links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Paging {
    /// 1-based; [`Paging::window`] brings it within the pages there are.
    pub page: usize,
    pub per: usize,
    /// One of the columns' sort names.
    pub sort: &'static str,
    pub order: Order,
    /// The rows in all (set by [`Paging::window`]).
    pub total: usize,
    path: String,
    /// The other query parameters, as sent (still encoded).
    keep: Vec<(String, String)>,
}

fn raw_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query.unwrap_or("").split('&').filter(|kv| !kv.is_empty()).map(|kv| kv.split_once('=').map_or((kv.to_owned(), String::new()), |(k, v)| (k.to_owned(), v.to_owned()))).collect()
}

impl Paging {
    /// Reads `page`, `per`, `sort` and `order` from a request's query (a missing or unusable value
    /// takes the default: a table always answers); `sort` must name a sortable column of `cols`.
    pub(crate) fn from_query(path: &str, query: Option<&str>, cols: &[Col], default_sort: &'static str, default_order: Order) -> Paging {
        let pairs = raw_pairs(query);
        let get = |name: &str| pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let page = get("page").and_then(|v| v.parse::<usize>().ok()).filter(|p| *p >= 1).unwrap_or(1);
        let per = get("per").and_then(|v| v.parse::<usize>().ok()).filter(|p| *p >= 1).map_or(PER_DEFAULT, |p| p.min(PER_MAX));
        let (sort, order) = match get("sort").and_then(|s| cols.iter().find(|c| !c.sort.is_empty() && c.sort == s)) {
            Some(c) => (c.sort, if get("order") == Some("desc") { Order::Desc } else { Order::Asc }),
            None => (default_sort, default_order),
        };
        let keep = pairs.into_iter().filter(|(k, _)| !matches!(k.as_str(), "page" | "per" | "sort" | "order" | "lang")).collect();
        Paging { page, per, sort, order, total: 0, path: path.to_owned(), keep }
    }

    /// Sorts `rows` by the chosen column (`cmp(sort name, a, b)`, ascending), stable, in the chosen
    /// order.
    pub(crate) fn sort<T>(&self, rows: &mut [T], cmp: impl Fn(&str, &T, &T) -> Ordering) {
        rows.sort_by(|a, b| {
            let o = cmp(self.sort, a, b);
            match self.order {
                Order::Asc => o,
                Order::Desc => o.reverse(),
            }
        });
    }

    /// The pages there are (at least one).
    pub(crate) fn pages(&self) -> usize {
        self.total.div_ceil(self.per).max(1)
    }

    /// The rows of the requested page (the last page when it asked beyond), remembering how many
    /// rows there are in all.
    pub(crate) fn window<'a, T>(&mut self, rows: &'a [T]) -> &'a [T] {
        self.total = rows.len();
        self.page = self.page.min(self.pages());
        let start = (self.page - 1) * self.per;
        rows.get(start..(start + self.per).min(rows.len())).unwrap_or(&[])
    }

    /// The link to this table with another page, order or page size (other parameters kept).
    fn href(&self, page: usize, sort: &str, order: Order) -> String {
        let mut q: Vec<String> = self.keep.iter().map(|(k, v)| format!("{k}={v}")).collect();
        q.push(format!("sort={sort}"));
        q.push(format!("order={}", order.as_str()));
        if self.per != PER_DEFAULT {
            q.push(format!("per={}", self.per));
        }
        if page > 1 {
            q.push(format!("page={page}"));
        }
        format!("{}?{}", self.path, q.join("&"))
    }

    /// `<thead>` with a link per sortable column: the first click sorts ascending, the next one
    /// reverses; the sorted column says so (`aria-sort`, and an arrow hidden from screen readers).
    pub(crate) fn head(&self, c: &Chrome, cols: &[Col]) -> String {
        let mut out = String::from("<thead><tr>");
        for col in cols {
            let class = if col.numeric { " class=\"num\"" } else { "" };
            let label = escape(c.t(col.label));
            if col.sort.is_empty() {
                let _ = write!(out, "<th scope=\"col\"{class}>{label}</th>");
                continue;
            }
            let sorted = col.sort == self.sort;
            let (aria, arrow, next) = match (sorted, self.order) {
                (true, Order::Asc) => ("ascending", " <span aria-hidden=\"true\">▲</span>", Order::Desc),
                (true, Order::Desc) => ("descending", " <span aria-hidden=\"true\">▼</span>", Order::Asc),
                (false, _) => ("none", "", Order::Asc),
            };
            let title = fill(c.t(if next == Order::Asc { "table.sort_asc" } else { "table.sort_desc" }), &[("column", c.t(col.label))]);
            let _ = write!(
                out,
                "<th scope=\"col\"{class} aria-sort=\"{aria}\"><a class=\"sort\" data-partial href=\"{href}\" title=\"{title}\" data-sort=\"{name}\">{label}{arrow}</a></th>",
                href = escape(&self.href(1, col.sort, if sorted { self.order.flip() } else { Order::Asc })),
                title = escape(&title),
                name = col.sort,
            );
        }
        out.push_str("</tr></thead>\n");
        out
    }

    /// The pager under a table: which rows are shown, previous/next/first/last links, and a form
    /// to go to a page or change the page size (the other parameters kept as hidden fields).
    pub(crate) fn pager(&self, c: &Chrome, id: &str) -> String {
        let pages = self.pages();
        let (first_row, last_row) = if self.total == 0 { (0, 0) } else { ((self.page - 1) * self.per + 1, (self.page * self.per).min(self.total)) };
        let mut out = format!("<nav class=\"pager\" aria-label=\"{}\" data-testid=\"pager\">\n", escape(c.t("table.pages")));
        let _ =
            writeln!(out, "<span class=\"count\">{}</span>", escape(&fill(c.t("table.rows"), &[("from", &first_row.to_string()), ("to", &last_row.to_string()), ("total", &self.total.to_string())])));
        let link = |page: usize, rel: &str, key: &str, enabled: bool| {
            if enabled {
                format!("<a data-partial href=\"{}\" rel=\"{rel}\" data-testid=\"page-{rel}\">{}</a>", escape(&self.href(page, self.sort, self.order)), escape(c.t(key)))
            } else {
                format!("<span class=\"off\" aria-disabled=\"true\">{}</span>", escape(c.t(key)))
            }
        };
        if pages > 1 {
            let _ = writeln!(out, "{} {}", link(1, "first", "table.first", self.page > 1), link(self.page.saturating_sub(1), "prev", "table.prev", self.page > 1));
            let _ = writeln!(out, "<span aria-current=\"page\">{}</span>", escape(&fill(c.t("table.page_of"), &[("page", &self.page.to_string()), ("pages", &pages.to_string())])));
            let _ = writeln!(out, "{} {}", link(self.page + 1, "next", "table.next", self.page < pages), link(pages, "last", "table.last", self.page < pages));
        }
        let _ = write!(out, "<form method=\"get\" action=\"{}\" class=\"inline\">", escape(&self.path));
        for (k, v) in &self.keep {
            let name = crate::web::decode(k);
            let value = crate::web::decode(v);
            let _ = write!(out, "<input type=\"hidden\" name=\"{}\" value=\"{}\">", escape(&name), escape(&value));
        }
        let _ = write!(out, "<input type=\"hidden\" name=\"sort\" value=\"{}\"><input type=\"hidden\" name=\"order\" value=\"{}\">", self.sort, self.order.as_str());
        if pages > 1 {
            let _ = write!(
                out,
                " <label for=\"{id}-page\">{}</label> <input type=\"number\" id=\"{id}-page\" name=\"page\" min=\"1\" max=\"{pages}\" value=\"{}\" class=\"short\">",
                escape(c.t("table.page")),
                self.page
            );
        }
        let _ = write!(out, " <label for=\"{id}-per\">{}</label> <select id=\"{id}-per\" name=\"per\">", escape(c.t("table.per")));
        let mut choices = PER_CHOICES.to_vec();
        if !choices.contains(&self.per) {
            choices.push(self.per);
            choices.sort_unstable();
        }
        for n in choices {
            let selected = if n == self.per { " selected" } else { "" };
            let _ = write!(out, "<option value=\"{n}\"{selected}>{n}</option>");
        }
        let _ = write!(out, "</select> <button type=\"submit\">{}</button></form>\n</nav>\n", escape(c.t("table.go")));
        out
    }
}

/// Compares two figures as written by the reports (plain decimals); text that is not a number sorts
/// after every number.
pub(crate) fn cmp_num(a: &str, b: &str) -> Ordering {
    match (a.parse::<Decimal>(), b.parse::<Decimal>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    const COLS: [Col; 3] = [col("no", "book.no", false), col("qty", "book.balance", true), fixed("book.name", false)];

    #[test]
    fn the_query_chooses_page_size_and_order_within_limits() {
        let p = Paging::from_query("/t", Some("page=3&per=20&sort=qty&order=desc&q=a%20b&lang=en"), &COLS, "no", Order::Asc);
        assert_eq!((p.page, p.per, p.sort, p.order), (3, 20, "qty", Order::Desc));
        assert_eq!(p.keep, vec![("q".to_owned(), "a%20b".to_owned())]);
        let p = Paging::from_query("/t", Some("page=0&per=100000&sort=name&order=x"), &COLS, "no", Order::Desc);
        assert_eq!((p.page, p.per, p.sort, p.order), (1, PER_MAX, "no", Order::Desc), "unknown or unsortable columns take the default");
        let p = Paging::from_query("/t", None, &COLS, "no", Order::Asc);
        assert_eq!((p.page, p.per), (1, PER_DEFAULT));
    }

    #[test]
    fn a_window_is_one_page_of_the_sorted_rows() {
        let mut rows: Vec<u32> = (1..=105).collect();
        let mut p = Paging::from_query("/t", Some("sort=qty&order=desc&page=9"), &COLS, "no", Order::Asc);
        p.sort(&mut rows, |_, a, b| a.cmp(b));
        let w = p.window(&rows);
        assert_eq!((p.page, p.pages(), w.len(), w.first().copied()), (3, 3, 5, Some(5)), "beyond the last page: the last page");
        let mut p = Paging::from_query("/t", Some("per=10&page=2"), &COLS, "no", Order::Asc);
        assert_eq!(p.window(&(1..=25).collect::<Vec<u32>>()), (11..=20).collect::<Vec<u32>>().as_slice());
        let mut p = Paging::from_query("/t", None, &COLS, "no", Order::Asc);
        assert!(p.window::<u32>(&[]).is_empty());
        assert_eq!((p.page, p.pages()), (1, 1));
    }

    #[test]
    fn links_keep_the_filters_and_say_the_order() {
        let c = crate::html::tests::chrome(Lang::En);
        let mut p = Paging::from_query("/books/X/lists", Some("direction=I&sort=qty&page=2&per=10"), &COLS, "no", Order::Asc);
        p.window(&[0u8; 35]);
        let head = p.head(&c, &COLS);
        assert!(head.contains("aria-sort=\"ascending\""), "{head}");
        assert!(head.contains("href=\"/books/X/lists?direction=I&amp;sort=qty&amp;order=desc&amp;per=10\""), "{head}");
        assert!(head.contains("href=\"/books/X/lists?direction=I&amp;sort=no&amp;order=asc&amp;per=10\""), "{head}");
        let pager = p.pager(&c, "t");
        assert!(pager.contains("rel=\"next\"") && pager.contains("page=3") && pager.contains("rel=\"prev\""), "{pager}");
        assert!(pager.contains("name=\"direction\" value=\"I\""), "{pager}");
        assert!(pager.contains("11") && pager.contains("20") && pager.contains("35"), "{pager}");
        assert_eq!(cmp_num("-2", "10"), Ordering::Less);
        assert_eq!(cmp_num("", "10"), Ordering::Greater);
    }
}
