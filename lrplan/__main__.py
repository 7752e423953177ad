from lrplan.cli import main

main()
