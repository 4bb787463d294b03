using System.CommandLine;
using Gwctl;

var root = new RootCommand("gwctl: operate AMQP log gateways");
RedriveCommand.AddTo(root);
return await root.Parse(args).InvokeAsync();
