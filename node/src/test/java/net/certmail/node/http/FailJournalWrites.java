package net.certmail.node.http;

import java.sql.Connection;
import java.sql.SQLException;
import org.h2.api.Trigger;

/** An H2 trigger that refuses every insert: a journal whose writes fail while it still reads. */
public final class FailJournalWrites implements Trigger {
  @Override
  public void fire(Connection connection, Object[] oldRow, Object[] newRow) throws SQLException {
    throw new SQLException("journal writes refused by the test (FailJournalWrites trigger)");
  }
}
