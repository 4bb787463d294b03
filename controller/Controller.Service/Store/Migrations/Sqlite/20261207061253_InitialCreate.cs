using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Controller.Service.Store.Migrations.Sqlite
{
    /// <inheritdoc />
    public partial class InitialCreate : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "controller_consume_limits",
                columns: table => new
                {
                    vhost = table.Column<string>(type: "TEXT", nullable: false),
                    queue = table.Column<string>(type: "TEXT", nullable: false),
                    messages_per_second = table.Column<double>(type: "REAL", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_controller_consume_limits", x => new { x.vhost, x.queue });
                });

            migrationBuilder.CreateTable(
                name: "controller_leader_lease",
                columns: table => new
                {
                    id = table.Column<int>(type: "INTEGER", nullable: false),
                    holder_id = table.Column<string>(type: "TEXT", nullable: true),
                    holder_url = table.Column<string>(type: "TEXT", nullable: true),
                    epoch = table.Column<long>(type: "INTEGER", nullable: false),
                    expires_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_controller_leader_lease", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "controller_nodes",
                columns: table => new
                {
                    node_id = table.Column<string>(type: "TEXT", nullable: false),
                    amqp_endpoint = table.Column<string>(type: "TEXT", nullable: false),
                    metrics_url = table.Column<string>(type: "TEXT", nullable: true),
                    started_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    last_seen = table.Column<DateTimeOffset>(type: "TEXT", nullable: false),
                    last_report = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_controller_nodes", x => x.node_id);
                });

            migrationBuilder.CreateTable(
                name: "controller_pause_rules",
                columns: table => new
                {
                    id = table.Column<string>(type: "TEXT", nullable: false),
                    vhost = table.Column<string>(type: "TEXT", nullable: false),
                    queue = table.Column<string>(type: "TEXT", nullable: false),
                    client_address = table.Column<string>(type: "TEXT", nullable: true),
                    connection_name = table.Column<string>(type: "TEXT", nullable: true),
                    created_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_controller_pause_rules", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "controller_publish_limits",
                columns: table => new
                {
                    vhost = table.Column<string>(type: "TEXT", nullable: false),
                    scope = table.Column<string>(type: "TEXT", nullable: false),
                    exchange = table.Column<string>(type: "TEXT", nullable: false),
                    messages_per_second = table.Column<double>(type: "REAL", nullable: false),
                    updated_at = table.Column<DateTimeOffset>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("PK_controller_publish_limits", x => new { x.vhost, x.scope, x.exchange });
                });

            migrationBuilder.InsertData(
                table: "controller_leader_lease",
                columns: new[] { "id", "epoch", "expires_at", "holder_id", "holder_url" },
                values: new object[] { 1, 0L, new DateTimeOffset(new DateTime(1970, 1, 1, 0, 0, 0, 0, DateTimeKind.Unspecified), new TimeSpan(0, 0, 0, 0, 0)), null, null });

            migrationBuilder.CreateIndex(
                name: "ix_controller_pause_rules_vhost_queue",
                table: "controller_pause_rules",
                columns: new[] { "vhost", "queue" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "controller_consume_limits");

            migrationBuilder.DropTable(
                name: "controller_leader_lease");

            migrationBuilder.DropTable(
                name: "controller_nodes");

            migrationBuilder.DropTable(
                name: "controller_pause_rules");

            migrationBuilder.DropTable(
                name: "controller_publish_limits");
        }
    }
}
