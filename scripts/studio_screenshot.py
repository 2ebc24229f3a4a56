"""Screenshots of gankit studio for the docs, taken in headless Chromium (Debian's chromium + chromium-driver).

usage: python scripts/studio_screenshot.py NOISE_RUN [TRANSLATOR_RUN] --out docs/studio.png

The first run should be a conditional image GAN: the page picks digit 7, draws 16 samples, walks between two
of them. A second run (a glyph model) gets a line of text in the target font, saved beside --out as
<stem>-glyphs.png.
"""
import argparse
import shutil
import threading
import time
from pathlib import Path

from PIL import Image
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from gankit.studio import open_runs
from gankit.studio.server import bind, make_server, url_of


def shoot(driver, out: Path, height: int) -> None:
    driver.save_screenshot(str(out))
    with Image.open(out) as picture:
        picture.crop((0, 0, picture.width, min(height, picture.height))).convert("RGB").save(out, optimize=True)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    sock = bind("127.0.0.1", 0)
    server = make_server(open_runs(args.runs), sock)
    threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,1400", "--hide-scrollbars"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(shutil.which("chromedriver")))
    wait = WebDriverWait(driver, 120)
    try:
        driver.get(url_of(sock))
        wait.until(lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready") == "yes")
        Select(driver.find_element(By.ID, "label")).select_by_visible_text("7")
        driver.find_element(By.ID, "generate").click()
        wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#samples img.sample")) == 16)
        samples = driver.find_elements(By.CSS_SELECTOR, "#samples img.sample")
        samples[1].click()
        samples[14].click()
        driver.find_element(By.ID, "walk").click()
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#walk-out img.strip"))
        time.sleep(0.5)
        shoot(driver, args.out, 800)
        if len(args.runs) > 1:
            Select(driver.find_element(By.ID, "run")).select_by_value("1")
            driver.find_element(By.ID, "run-glyphs").click()
            wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#translate-out img")) == 2)
            time.sleep(0.5)
            shoot(driver, args.out.with_name(args.out.stem + "-glyphs.png"), 760)
    finally:
        driver.quit()
        server.should_exit = True


if __name__ == "__main__":
    main()
