/* shop_catalogue.h — the synthetic shop's category tree, as data.  Included
 * once, by shop.c. */
#ifndef SHOP_CATALOGUE_H
#define SHOP_CATALOGUE_H

/* One line per sub-category: "department/sub", then its leaves with a typical
 * price.  Leaves are the categories events carry. */
typedef struct shop_sub_def {
    const char *path;
    const char *leaves; /* "name price|name price|..." */
} shop_sub_def;

static const shop_sub_def catalogue[] = {
    {"electronics/phones", "smartphones 650|phone-cases 20|chargers 25|screen-protectors 12"},
    {"electronics/computers", "laptops 1100|desktops 900|monitors 280|keyboards 70|mice 40"},
    {"electronics/audio", "headphones 150|earbuds 120|speakers 180|soundbars 300"},
    {"electronics/tv-video", "televisions 700|projectors 500|streaming-sticks 50|tv-mounts 45"},
    {"electronics/cameras", "mirrorless-cameras 1200|lenses 600|tripods 60|action-cameras 300"},
    {"electronics/gaming", "consoles 450|video-games 60|controllers 65|gaming-chairs 250"},
    {"home/bedroom", "mattresses 450|pillows 35|duvets 90|bed-frames 320|bedside-lamps 40"},
    {"home/living-room", "sofas 900|coffee-tables 180|rugs 150|bookcases 130"},
    {"home/bathroom", "towels 25|shower-curtains 20|bath-mats 18|mirrors 70"},
    {"home/decor", "candles 15|wall-art 60|vases 30|clocks 35"},
    {"home/storage", "shelving 90|baskets 25|closet-organizers 45|drawer-units 80"},
    {"kitchen/cookware", "frying-pans 45|saucepans 60|dutch-ovens 110|woks 40"},
    {"kitchen/appliances", "coffee-machines 250|blenders 90|toasters 45|air-fryers 120|microwaves 150"},
    {"kitchen/tableware", "dinner-plates 40|glassware 30|cutlery 55|mugs 15"},
    {"kitchen/bakeware", "baking-sheets 20|cake-tins 18|mixing-bowls 25|rolling-pins 12"},
    {"kitchen/knives", "chef-knives 90|knife-blocks 110|sharpeners 30|cutting-boards 30"},
    {"fashion/womens", "dresses 70|blouses 35|jeans 65|coats 150|skirts 45"},
    {"fashion/mens", "shirts 45|trousers 55|jackets 140|suits 320|t-shirts 20"},
    {"fashion/shoes", "sneakers 95|boots 130|sandals 45|heels 85|loafers 90"},
    {"fashion/accessories", "handbags 120|wallets 45|belts 35|sunglasses 110|scarves 30"},
    {"fashion/jewelry", "rings 180|necklaces 150|earrings 90|watches 250"},
    {"beauty/skincare", "moisturizers 30|serums 45|cleansers 18|sunscreen 20"},
    {"beauty/makeup", "lipstick 22|foundation 35|mascara 20|eyeshadow 28"},
    {"beauty/haircare", "shampoo 12|conditioner 12|hair-dryers 80|straighteners 70"},
    {"beauty/fragrance", "perfume 85|cologne 75|body-mist 20|gift-sets 60"},
    {"beauty/personal-care", "electric-toothbrushes 90|razors 25|trimmers 45|epilators 60"},
    {"sports/fitness", "dumbbells 60|yoga-mats 30|treadmills 900|resistance-bands 20|exercise-bikes 600"},
    {"sports/running", "running-shoes 120|gps-watches 280|hydration-packs 50|running-socks 15"},
    {"sports/cycling", "road-bikes 1500|mountain-bikes 1100|bike-helmets 70|bike-lights 35"},
    {"sports/outdoor", "tents 220|sleeping-bags 110|backpacks 90|hiking-boots 150"},
    {"sports/team-sports", "footballs 30|basketballs 35|tennis-rackets 140|golf-clubs 400"},
    {"toys/building", "building-sets 60|wooden-blocks 30|marble-runs 40|construction-kits 45"},
    {"toys/dolls", "fashion-dolls 25|dollhouses 120|plush-toys 20|action-figures 20"},
    {"toys/games", "board-games 35|jigsaw-puzzles 20|card-games 15|trading-cards 10"},
    {"toys/outdoor-play", "trampolines 300|swings 80|scooters 70|water-guns 15"},
    {"toys/nursery", "strollers 350|car-seats 220|baby-monitors 110|high-chairs 130"},
    {"books/fiction", "novels 15|thrillers 14|science-fiction 15|romance 12"},
    {"books/non-fiction", "biographies 20|history 22|self-help 16|cookbooks 25"},
    {"books/children", "picture-books 10|young-adult 12|activity-books 8|bedtime-stories 9"},
    {"books/education", "textbooks 70|language-courses 30|test-prep 35|dictionaries 25"},
    {"books/comics", "graphic-novels 20|manga 11|comic-books 5|art-books 35"},
    {"grocery/beverages", "coffee-beans 14|tea 8|juices 4|sparkling-water 6"},
    {"grocery/snacks", "chips 3|chocolate 4|nuts 8|cookies 4"},
    {"grocery/pantry", "pasta 2|rice 5|olive-oil 12|spices 5|cereal 5"},
    {"grocery/fresh", "fruit 5|vegetables 4|dairy 4|bread 3"},
    {"grocery/household", "detergent 12|paper-towels 10|cleaning-sprays 5|trash-bags 9"},
    {"garden/tools", "lawn-mowers 350|hedge-trimmers 120|shovels 35|pruners 25"},
    {"garden/plants", "house-plants 30|seeds 4|flower-bulbs 10|fruit-trees 80"},
    {"garden/furniture", "patio-sets 600|garden-chairs 80|hammocks 70|parasols 90"},
    {"garden/bbq", "gas-grills 500|charcoal-grills 150|bbq-tools 35|smokers 400"},
    {"garden/watering", "hoses 40|sprinklers 30|watering-cans 20|rain-barrels 70"},
    {"pets/dogs", "dog-food 55|dog-beds 60|leashes 20|dog-toys 12"},
    {"pets/cats", "cat-food 40|cat-litter 20|scratching-posts 45|cat-toys 10"},
    {"pets/fish", "aquariums 150|fish-food 8|aquarium-filters 40|aquarium-plants 10"},
    {"pets/small-pets", "cages 70|hay 12|pet-bedding 15|hamster-wheels 15"},
    {"pets/pet-health", "flea-treatment 30|supplements 25|grooming-kits 20|dental-chews 12"},
    {"automotive/parts", "brake-pads 60|car-batteries 130|oil-filters 15|wiper-blades 20"},
    {"automotive/car-care", "car-wax 18|pressure-washers 180|microfiber-cloths 12|car-vacuums 60"},
    {"automotive/electronics", "dash-cams 110|gps-units 150|car-chargers 18|car-speakers 120"},
    {"automotive/tires", "summer-tires 120|winter-tires 140|tire-inflators 50|snow-chains 60"},
    {"automotive/accessories", "seat-covers 50|floor-mats 40|roof-boxes 400|phone-mounts 20"},
};
#endif
