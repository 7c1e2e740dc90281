package net.certmail.persistence.inbox;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import net.certmail.persistence.MailboxIndex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The inbox listing's cost does not grow with what the database holds: a page is one query
 * reading the page's rows (plus one to tell whether more follow), with 10 or 50,000 other
 * inbox entries of other mailboxes beside it. Real H2 file, as the embedded journal opens it.
 */
class JdbcInboxIndexTest {
  @TempDir
  Path directory;

  static <T> T await(CompletionStage<T> stage) {
    try {
      return stage.toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private JdbcInboxIndex open(String name) {
    return JdbcInboxIndex.open("jdbc:h2:file:" + directory.resolve(name).toAbsolutePath()
        + ";TRACE_LEVEL_FILE=0", "sa", ""); // durability is not what this test is about
  }

  /** Fills the index with {@code others} entries of 1,000 other mailboxes and 5 of carol's; reads carol's first page of 2. */
  private long[] costOfAPage(String name, int others) {
    try (JdbcInboxIndex index = open(name)) {
      for (int i = 0; i < others; i++) {
        index.add("m" + (i % 1000) + "@beta.example", "alpha.example/" + String.format("%032x", i));
      }
      for (int i = 0; i < 5; i++) {
        await(index.add("carol@beta.example", "alpha.example/" + String.format("%032x", i)));
      }
      long queries = index.queries();
      long rows = index.rowsRead();
      List<String> page = await(new MailboxIndex(index).of("carol@beta.example", "", 3));
      assertEquals(3, page.size());
      List<String> next = await(index.page("carol@beta.example", page.get(2), 3));
      assertEquals(List.of("alpha.example/" + String.format("%032x", 3), "alpha.example/" + String.format("%032x", 4)),
          next, "the next page starts after the cursor");
      return new long[] {index.queries() - queries - 1, index.rowsRead() - rows - next.size()};
    }
  }

  @Test
  void aPageCostsTheSameWithTenOrFiftyThousandOtherEntries() {
    long[] small = costOfAPage("small", 10);
    long[] large = costOfAPage("large", 50_000);
    assertEquals(1, small[0], "one query per page");
    assertEquals(3, small[1], "rows read: the page's");
    assertEquals(small[0], large[0], "queries per page, small vs large index");
    assertEquals(small[1], large[1], "rows read per page, small vs large index");
  }

  @Test
  void addingTwiceListsTheLabelOnce() {
    try (JdbcInboxIndex index = open("twice")) {
      await(index.add("bob@beta.example", "alpha.example/aa"));
      await(index.add("bob@beta.example", "alpha.example/aa"));
      assertEquals(List.of("alpha.example/aa"), await(index.page("bob@beta.example", "", 10)));
      assertEquals(List.of(), await(index.page("dave@beta.example", "", 10)), "another mailbox sees none of it");
    }
  }
}
