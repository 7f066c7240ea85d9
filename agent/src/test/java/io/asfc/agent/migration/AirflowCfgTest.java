package io.asfc.agent.migration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The configparser rules, as Python 3's RawConfigParser/ConfigParser apply them to an airflow.cfg. */
class AirflowCfgTest {
    @Test
    void keysAreSplitAtTheFirstEqualsOrColonAndTrimmed() {
        AirflowCfg cfg = parse(
                """
                [s]
                a = b:c=d
                url: http://host:8080/x
                spaced   =   value with  inner  spaces\t
                """);

        assertEquals("b:c=d", raw(cfg, "s", "a"));
        assertEquals("http://host:8080/x", raw(cfg, "s", "url"));
        assertEquals("value with  inner  spaces", raw(cfg, "s", "spaced"));
    }

    @Test
    void keysAreCaseInsensitiveSectionsAreNot() {
        AirflowCfg cfg = parse("[Smtp]\nSMTP_Host = mail\n");

        assertEquals("mail", raw(cfg, "Smtp", "smtp_host"));
        assertEquals(List.of("smtp_host"), cfg.keys("Smtp"));
        assertFalse(cfg.hasSection("smtp"));
    }

    @Test
    void deeperIndentedLinesContinueTheValueAndCommentsInsideAreSkipped() {
        AirflowCfg cfg = parse(
                """
                [s]
                to = a@example.com,
                    b@example.com

                  # a comment, not part of the value
                    c@example.com


                next = 1
                """);

        assertEquals("a@example.com,\nb@example.com\n\nc@example.com", raw(cfg, "s", "to"));
        assertEquals("1", raw(cfg, "s", "next"));
    }

    @Test
    void thereAreNoInlineComments() {
        AirflowCfg cfg = parse("[s]\n# whole line\n; whole line\nstop = a \\; b ; c # d\n");

        assertEquals("a \\; b ; c # d", raw(cfg, "s", "stop"));
        assertEquals(List.of("stop"), cfg.keys("s"));
    }

    @Test
    void defaultSectionSuppliesEverySection() {
        AirflowCfg cfg = parse("[DEFAULT]\nhome = /opt/airflow\n[s]\nown = 1\n");

        assertEquals("/opt/airflow", raw(cfg, "s", "home"));
        assertEquals(List.of("own"), cfg.keys("s"));
        assertFalse(cfg.hasSection("DEFAULT"));
    }

    @Test
    void windowsLineEndingsAndAByteOrderMarkAreRead() {
        AirflowCfg cfg = parse("\uFEFF[s]\r\na = 1\r\n  2\r\n");

        assertEquals("1\n2", raw(cfg, "s", "a"));
    }

    @Test
    void aKeyOrSectionGivenTwiceIsAnErrorAsInPython3() {
        AirflowCfgException key = assertThrows(AirflowCfgException.class, () -> parse("[s]\na = 1\nA = 2\n"));
        AirflowCfgException section = assertThrows(AirflowCfgException.class, () -> parse("[s]\n[t]\n[s]\n"));

        assertTrue(key.getMessage().contains("line 3: [s] a is set a second time (first on line 2)"), key::getMessage);
        assertTrue(section.getMessage().contains("line 3: section [s] appears a second time"), section::getMessage);
    }

    @Test
    void badLinesAreReportedByNumberWithoutTheirText() {
        AirflowCfgException e =
                assertThrows(AirflowCfgException.class, () -> parse("[s]\nsmtp_password\n= value\nok = 1\n"));

        assertTrue(e.getMessage().startsWith("test.cfg cannot be read as an INI file"), e::getMessage);
        assertTrue(e.getMessage().contains("line 2: neither"), e::getMessage);
        assertTrue(e.getMessage().contains("line 3: neither"), e::getMessage);
        assertFalse(e.getMessage().contains("smtp_password"), e::getMessage);
    }

    @Test
    void aKeyBeforeAnySectionIsAnError() {
        AirflowCfgException e = assertThrows(AirflowCfgException.class, () -> parse("a = 1\n[s]\n"));

        assertTrue(e.getMessage().startsWith("test.cfg:1: a key before the first [section] header"), e::getMessage);
    }

    @Test
    void interpolationIsAirflowsRawIsThePythonToolsView() {
        AirflowCfg cfg = parse(
                """
                [DEFAULT]
                domain = example.com
                [smtp]
                host = mail.%(domain)s
                from = Airflow 100%% <airflow@%(host)s>
                lone = 5%
                missing = %(nope)s
                """);

        assertEquals(Optional.of("Airflow 100% <airflow@mail.example.com>"), cfg.interpolated("smtp", "from"));
        assertEquals("Airflow 100%% <airflow@%(host)s>", raw(cfg, "smtp", "from"));
        assertThrows(AirflowCfg.BadInterpolation.class, () -> cfg.interpolated("smtp", "lone"));
        AirflowCfg.BadInterpolation missing =
                assertThrows(AirflowCfg.BadInterpolation.class, () -> cfg.interpolated("smtp", "missing"));
        assertTrue(missing.getMessage().contains("%(nope)s, which is not set"), missing::getMessage);
    }

    @Test
    void selfReferencesStopAtPythonsDepthLimit() {
        AirflowCfg cfg = parse("[s]\na = %(a)s\n");

        assertThrows(AirflowCfg.BadInterpolation.class, () -> cfg.interpolated("s", "a"));
    }

    private static AirflowCfg parse(String text) {
        return AirflowCfg.parse(text, "test.cfg");
    }

    private static String raw(AirflowCfg cfg, String section, String key) {
        return cfg.raw(section, key).orElseThrow().value();
    }
}
