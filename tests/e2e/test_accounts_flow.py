import re

from playwright.sync_api import Page, expect

from tests.e2e.conftest import shoot

PASSWORD = "a long enough passphrase 42"


def test_sign_up_log_out_log_in_and_see_home(page: Page) -> None:
    page.goto("/")
    # Not logged in: sent to the log-in page, which links to sign-up.
    expect(page).to_have_url(re.compile(r"/account/login/\?next=/$"))
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    shoot(page, "login")
    page.get_by_role("link", name="Sign up").last.click()

    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Username").fill("carol")
    page.get_by_label("E-mail address").fill("carol@example.com")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    shoot(page, "signup")
    page.get_by_role("button", name="Sign up").click()

    expect(page.get_by_role("heading", name="Your files")).to_be_visible()
    expect(page.get_by_text("Welcome to FileFlow, carol.")).to_be_visible()
    shoot(page, "home")

    page.get_by_role("button", name="Log out").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()

    page.get_by_label("Username").fill("carol")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text(
        "Please enter a correct username and password"
    )

    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your files")).to_be_visible()
    expect(page.locator(".whoami")).to_have_text("carol")


def test_theme_toggle_is_remembered(page: Page, alice, password) -> None:
    page.goto("/account/login/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "system")
    # The page's scripts have set up (a click before that did nothing once in CI).
    expect(html).to_have_class(re.compile(r"\bjs\b"))
    page.get_by_role("button", name="Switch colour theme").click()
    expect(html).to_have_attribute("data-theme", "light")
    page.get_by_role("button", name="Switch colour theme").click()
    expect(html).to_have_attribute("data-theme", "dark")
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    shoot(page, "home-dark")
